// Seeded mutations of real alert files and real messages. Case i of seed S is a pure function of
// (S, i): a failing case can be run again alone (`npm run fuzz -- --seed S --only i`).
import { existsSync, readFileSync } from 'node:fs';
import { deflateRawSync } from 'node:zlib';
import { encodeContainer, encodeContainerBlocks, readContainer } from '../../src/avro/container.ts';
import { sizePositions } from '../../src/avro/bounded.ts';
import { parseAvroType, sanitizeSchema, type AvroSchema } from '../../src/avro/schema.ts';
import { expandPaths } from '../../src/sciencedb/ingest.ts';
import { FINK_DATA, LSST_SAMPLES, ZTF_DATA } from '../helpers/data.ts';
import { deflateBomb, varint } from '../helpers/hostile.ts';
import { lsstMessages, type WireMessage } from '../helpers/wire.ts';
import { poisonAlert, POISON_KINDS, type PoisonKind } from './poison-cases.ts';
import { int, pick, rng, type Rng } from './rng.ts';


/** A huge (or negative) count or length: the kind of value that bombs a trusting decoder. */
function hugeVarint(r: Rng): Buffer {
  const n = 2n ** BigInt(20 + int(r, 43)) + BigInt(int(r, 1000));
  return varint(r() < 0.2 ? -n : n);
}

function flipBits(r: Rng, buf: Buffer): Buffer {
  const out = Buffer.from(buf);
  for (let k = 1 + int(r, 8); k > 0; k--) {
    const at = int(r, out.length);
    out[at] = out[at]! ^ (1 << int(r, 8));
  }
  return out;
}

const truncate = (r: Rng, buf: Buffer) => buf.subarray(0, int(r, buf.length));

/** Replaces the count or length at a random one of `positions` (or any byte) by a huge varint. */
function sizeBomb(r: Rng, datum: Buffer, positions: readonly number[]): Buffer {
  const at = positions.length > 0 && r() < 0.9 ? pick(r, positions) : int(r, datum.length);
  const old = datum.subarray(at);
  let len = 0;
  while (len < old.length && old[len]! & 0x80) len++;
  return Buffer.concat([datum.subarray(0, at), hugeVarint(r), datum.subarray(at + len + 1)]);
}

interface Source {
  file: Buffer;
  schemaText: string;
  schema: AvroSchema;
  datums: Buffer[];
  positions: number[][];
}

let sources: Source[] | undefined;

/** The real alert files, each with its datums and where their counts and lengths are. */
export function realSources(): Source[] {
  if (sources !== undefined) return sources;
  sources = expandPaths([ZTF_DATA, FINK_DATA]).files.map((path) => {
    const file = readFileSync(path);
    const container = readContainer(file);
    const type = parseAvroType(sanitizeSchema(container.schema));
    const datums: Buffer[] = [];
    for (const block of container.blocks()) {
      let pos = 0;
      for (let i = 0; i < block.count; i++) {
        const end = type.decode(block.data, pos).offset;
        datums.push(block.data.subarray(pos, end));
        pos = end;
      }
    }
    return { file, schemaText: container.schemaText, schema: container.schema, datums, positions: datums.map((d) => sizePositions(type, d)) };
  });
  return sources;
}

let rubin: WireMessage[] | undefined;

/** The Rubin samples as messages (key: the schema), or none where the shared data lacks them. */
export function rubinAlerts(): WireMessage[] {
  if (rubin !== undefined) return rubin;
  // Only the samples' absence gives none (the upstream fuzz test then says the data is missing); a
  // sample that does not decode is a failure, not fewer cases.
  rubin = LSST_SAMPLES.every((f) => existsSync(f)) ? lsstMessages() : [];
  return rubin;
}

let reals: WireMessage[] | undefined;

/** Real alerts of both surveys as messages: what poisons alter. */
export function realAlerts(): WireMessage[] {
  reals ??= [...realMessagesOf(realSources()), ...rubinAlerts()];
  return reals;
}

const isPoison = (kind: string): kind is PoisonKind => (POISON_KINDS as readonly string[]).includes(kind);

export const INGEST_KINDS = ['bitflip', 'truncate', 'datum-bitflip', 'datum-truncate', 'count-bomb', 'block-count', 'deflate-bomb', 'header', ...POISON_KINDS] as const;
export type IngestKind = (typeof INGEST_KINDS)[number];

/** Mutated schema texts: a null field, deep nesting, bytes changed. */
export function mutateSchemaText(r: Rng, text: string): string {
  switch (int(r, 4)) {
    case 0: return text.replace(/"fields"\s*:\s*\[/, '"fields":[null,');
    case 1: {
      const n = 50 + int(r, 200_000);
      return text.replace(/"type"\s*:\s*"double"/, `"type":${'{"type":'.repeat(n)}"double"${'}'.repeat(n)}`);
    }
    case 2: return text.replace(/"doc"\s*:\s*"[^"]*"/, `"doc":${'['.repeat(int(r, 100_000))}${']'.repeat(int(r, 100_000))}`);
    default: return flipBits(r, Buffer.from(text)).toString('latin1');
  }
}

export function ingestCase(seed: number, index: number): { kind: IngestKind; bytes: Buffer } {
  const r = rng(seed, index);
  const kind = pick(r, INGEST_KINDS);
  const src = pick(r, realSources());
  const codec = r() < 0.5 ? 'deflate' : 'null';
  if (isPoison(kind)) {
    const poison = poisonAlert(r, kind, BigInt(index + 1), realAlerts());
    return { kind, bytes: encodeContainer(poison.schema, [poison.datum], { codec }) };
  }
  const withDatum = (change: (d: Buffer, i: number) => Buffer) => {
    const i = int(r, src.datums.length);
    const datums = src.datums.map((d, j) => (j === i ? change(d, j) : d));
    return encodeContainer(src.schema, datums, { codec, perBlock: 1 + int(r, 4) });
  };
  switch (kind) {
    case 'bitflip': return { kind, bytes: flipBits(r, src.file) };
    case 'truncate': return { kind, bytes: truncate(r, src.file) };
    case 'datum-bitflip': return { kind, bytes: withDatum((d) => flipBits(r, d)) };
    case 'datum-truncate': return { kind, bytes: withDatum((d) => truncate(r, d)) };
    case 'count-bomb': return { kind, bytes: withDatum((d, i) => sizeBomb(r, d, src.positions[i]!)) };
    case 'block-count': {
      const body = Buffer.concat(src.datums);
      return { kind, bytes: encodeContainerBlocks(src.schemaText, 'null', [{ count: Number(2n ** BigInt(20 + int(r, 33))), body }]) };
    }
    case 'deflate-bomb': {
      // A real alert, then a block that inflates to 33 MiB .. 2 GiB.
      const bomb = deflateBomb(33 + int(r, 2000));
      return { kind, bytes: encodeContainerBlocks(src.schemaText, 'deflate', [{ count: 1, body: deflateRawSync(src.datums[0]!) }, { count: 1 + int(r, 3), body: bomb }]) };
    }
    case 'header': {
      const blocks = [{ count: src.datums.length, body: Buffer.concat(src.datums) }];
      return { kind, bytes: encodeContainerBlocks(mutateSchemaText(r, src.schemaText), 'null', blocks) };
    }
  }
}

export const MESSAGE_KINDS = ['value-bitflip', 'value-truncate', 'value-trailing', 'count-bomb', 'key-garbage', 'key-doc', 'key-mutated', 'object-id', ...POISON_KINDS] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];

/** The real alerts as messages (key: the schema made valid, as the distribution sends it). */
export function realMessagesOf(all: Source[]): (WireMessage & { positions: number[] })[] {
  return all.flatMap((src) => {
    const key = Buffer.from(JSON.stringify(sanitizeSchema(src.schema)));
    return src.datums.map((value, i) => ({ key, value, positions: src.positions[i]! }));
  });
}

export function messageCase(seed: number, index: number, messages: readonly (WireMessage & { positions: number[] })[]): { kind: MessageKind; message: WireMessage } {
  const r = rng(seed, index);
  const kind = pick(r, MESSAGE_KINDS);
  const m = pick(r, messages);
  if (isPoison(kind)) {
    const poison = poisonAlert(r, kind, BigInt(index + 1), messages);
    return { kind, message: { key: Buffer.from(JSON.stringify(poison.schema)), value: poison.datum } };
  }
  switch (kind) {
    case 'value-bitflip': return { kind, message: { key: m.key, value: flipBits(r, m.value) } };
    case 'value-truncate': return { kind, message: { key: m.key, value: truncate(r, m.value) } };
    case 'value-trailing': return { kind, message: { key: m.key, value: Buffer.concat([m.value, Buffer.from(Array.from({ length: 1 + int(r, 8) }, () => int(r, 256)))]) } };
    case 'count-bomb': return { kind, message: { key: m.key, value: sizeBomb(r, m.value, m.positions) } };
    case 'key-garbage': {
      const bytes = Buffer.from(Array.from({ length: int(r, 64) }, () => int(r, 256)));
      return { kind, message: { key: bytes, value: m.value } };
    }
    case 'key-doc': {
      // The same schema under another doc: decodes, and must not grow the cache.
      const schema = JSON.parse(m.key.toString()) as { doc?: string };
      schema.doc = `variant ${seed}/${index} \u001b[1m`;
      return { kind, message: { key: Buffer.from(JSON.stringify(schema)), value: m.value } };
    }
    case 'key-mutated': return { kind, message: { key: Buffer.from(mutateSchemaText(r, m.key.toString()), 'latin1'), value: m.value } };
    case 'object-id': {
      // The objectId replaced: empty, or laden with escapes.
      const type = parseAvroType(JSON.parse(m.key.toString()) as AvroSchema);
      const alert = type.fromBuffer(m.value) as Record<string, unknown>;
      alert.objectId = pick(r, ['', '\u001b[2J\u001b[H', 'ZTF\u009b31m\u0007', '\u202eZTF', 'x'.repeat(int(r, 5000))]);
      return { kind, message: { key: m.key, value: type.toBuffer(alert) } };
    }
  }
}
