// The poison shapes of the fuzzer: alerts that take a few bytes and would decode into millions of
// values (items of no bytes, named records nested inside each other), and times no alert can have,
// in a real alert or a small one. Each is a writer schema and one datum of it; the targets wrap
// them as a file, a message with its schema as key, or a Confluent message whose schema a registry
// serves.
import { parseAvroType, sanitizeSchema, type AvroSchema } from '../../src/avro/schema.ts';
import { nestedRecords } from '../helpers/building-bombs.ts';
import { alertSchema, varint } from '../helpers/hostile.ts';
import { LSST_MINI_SCHEMA, lsstDatum, nestedRecordsDatum, nestedRecordsSchema, nullRecordsDatum, nullRecordsSchema, ztfDatum } from '../helpers/poison-alerts.ts';
import type { WireMessage } from '../helpers/wire.ts';
import { int, pick, type Rng } from './rng.ts';


export const POISON_KINDS = ['zero-items', 'nested-named', 'impossible-time'] as const;
export type PoisonKind = (typeof POISON_KINDS)[number];

export interface Poison {
  schema: AvroSchema;
  datum: Buffer;
}


// NaN, infinities, far past and future, tiny: none is a time of an alert (2015-2100).
const TIMES = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e12, 1e300, -1, 0, 5e-324, 2_000_000, 40_000, 2_500_000];

/** A real alert's datum with its time replaced: candidate.jd for ZTF, diaSource.midpointMjdTai for Rubin. */
function realWithTime(real: WireMessage, time: number): Poison {
  const schema = sanitizeSchema(JSON.parse(real.key.toString()) as AvroSchema);
  const type = parseAvroType(schema);
  const alert = type.fromBuffer(real.value) as { candidate?: { jd: number }; diaSource?: { midpointMjdTai: number } };
  if (alert.candidate !== undefined) alert.candidate.jd = time;
  if (alert.diaSource !== undefined) alert.diaSource.midpointMjdTai = time;
  return { schema, datum: type.toBuffer(alert) };
}

/** Poison `kind` for case `r`, with `candid` (and, for impossible times, real alerts to alter). */
export function poisonAlert(r: Rng, kind: PoisonKind, candid: bigint, reals: readonly WireMessage[]): Poison {
  switch (kind) {
    case 'zero-items':
      // Up to the item limit, each a record of up to 200 nulls: up to 2*10^8 values from 6 bytes.
      return { schema: nullRecordsSchema(1 + int(r, 200)), datum: nullRecordsDatum(candid, int(r, 1_000_001)) };
    case 'nested-named': {
      const levels = 2 + int(r, 9);
      const fanOut = 2 + int(r, 15);
      if (r() < 0.5) return { schema: nestedRecordsSchema(levels, fanOut), datum: nestedRecordsDatum(candid) };
      // The nesting as array items: each within the schema limit, their number only the budget's.
      const schema = alertSchema([{ name: 'xs', type: { type: 'array', items: nestedRecords(Math.min(levels, 4), fanOut) } }]);
      return { schema, datum: Buffer.concat([ztfDatum(candid, 2460000.5), varint(BigInt(int(r, 1_000_001))), varint(0n)]) };
    }
    case 'impossible-time': {
      const time = pick(r, TIMES);
      const choice = int(r, 3);
      if (choice === 0 && reals.length > 0) return realWithTime(pick(r, reals), time);
      return choice === 1 ? { schema: alertSchema(), datum: ztfDatum(candid, time) } : { schema: LSST_MINI_SCHEMA, datum: lsstDatum(candid, time) };
    }
  }
}
