// What the simulators of every survey share: a seeded PRNG, FITS images, filler values, and the
// packing of a drawn alert and its added values into an alert ready to store.
import { compactSchemaJson, extendRecord, parseAvroType, schemaFingerprint, type RecordSchema } from '../avro/schema.ts';
import { viewAlert, type Survey } from '../alert/survey.ts';
import type { NewAlert } from './store.ts';
import type { FieldSpec } from './simulation.ts';

/** A small fast PRNG (mulberry32): the same seed gives the same alerts on every machine. */
export class Random {
  #state: number;
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  between(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  int(lo: number, hi: number): number {
    return Math.floor(this.between(lo, hi + 1));
  }
  gauss(): number {
    return Math.sqrt(-2 * Math.log(1 - this.next())) * Math.cos(2 * Math.PI * this.next());
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
}

export const f32 = Math.fround;

/** A square float32 FITS image of sky noise with a point source in the middle (ZTF gzips its stamps, Rubin does not). */
export function fitsCutout(random: Random, kind: string, size: number): Buffer {
  const mid = (size - 1) / 2;
  const cards = [
    'SIMPLE  =                    T', 'BITPIX  =                  -32', 'NAXIS   =                    2',
    `NAXIS1  = ${String(size).padStart(20)}`, `NAXIS2  = ${String(size).padStart(20)}`,
    `COMMENT   fink-distribution simulated ${kind} stamp`, 'END',
  ];
  const header = Buffer.alloc(2880, ' ');
  cards.forEach((card, i) => header.write(card.padEnd(80), i * 80, 'latin1'));
  const data = Buffer.alloc(Math.ceil((size * size * 4) / 2880) * 2880);
  const sky = random.between(100, 400);
  const noise = random.between(5, 20);
  const flux = kind === 'template' ? random.between(0, 200) : random.between(50, 2000);
  const sigma = random.between(1.2, 2.5);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const r2 = (x - mid) ** 2 + (y - mid) ** 2;
      const base = kind === 'difference' ? 0 : sky;
      data.writeFloatBE(base + noise * random.gauss() + flux * Math.exp(-r2 / (2 * sigma * sigma)), (y * size + x) * 4);
    }
  }
  return Buffer.concat([header, data]);
}

/** Values for survey fields that no science case reads: plausible magnitudes and small numbers. */
export function filler(random: Random, spec: FieldSpec): unknown {
  switch (spec.code) {
    case 'f': return f32(random.between(0, 25));
    case 'd': return random.between(0, 100);
    case 'i': return random.int(0, 100);
    case 'l': return BigInt(random.int(0, 1_000_000));
    case 'b': return random.next() < 0.05;
    case 't': return BigInt(Date.UTC(2025, 0, 1)) * 1000n + BigInt(random.int(0, 2 ** 31));
    default: return 'unknown';
  }
}


export interface Packer {
  alertSchema: RecordSchema;
  addedSchema: RecordSchema;
  /** The alert schema extended by the added values: what a Fink-enriched alert file carries. */
  fullSchema: RecordSchema;
  /** A drawn alert and its added values, encoded, with the survey's view, in the simulated night. */
  pack(survey: Survey, alert: Record<string, unknown>, added: Record<string, unknown>, night: string): NewAlert;
}

export function packer(alertSchema: RecordSchema, addedSchema: RecordSchema): Packer {
  const alertType = parseAvroType(alertSchema);
  const addedType = parseAvroType(addedSchema);
  const alertId = { id: schemaFingerprint(alertType), json: compactSchemaJson(alertSchema) };
  const addedId = { id: schemaFingerprint(addedType), json: compactSchemaJson(addedSchema) };
  return {
    alertSchema,
    addedSchema,
    fullSchema: extendRecord(alertSchema, addedSchema.fields),
    pack: (survey, alert, added, night) => ({
      ...viewAlert(survey, alert, added),
      // The simulated night, whatever the date of the exposure.
      night,
      schemaId: alertId.id,
      schemaJson: alertId.json,
      datum: alertType.toBuffer(alert),
      added: { schemaId: addedId.id, schemaJson: addedId.json, datum: addedType.toBuffer(added) },
    }),
  };
}
