// Schemas and datums that take a few bytes and would decode into tens of millions of values: items
// that take no bytes (records of nulls), named records nested inside each other, each level
// multiplying the last. Shared by the bounded check's tests, the ingest tests and the fuzzer.
import { varint } from './hostile.ts';

export interface BuildingBomb {
  name: string;
  /** The schema, JSON. */
  schema: object;
  /** A datum of it: a few bytes. */
  datum: Buffer;
  /** What the refusal says. */
  refused: RegExp;
}

/** A record of `n` fields of type `type`. */
function recordOf(name: string, n: number, type: unknown): object {
  return { type: 'record', name, fields: Array.from({ length: n }, (_, i) => ({ name: `f${i}`, type })) };
}

/** `levels` named records, each with `fanOut` fields of the next one; the last of `fanOut` nulls. */
export function nestedRecords(levels: number, fanOut: number): object {
  const first = recordOf('l0', fanOut, 'null') as { fields: { type: unknown }[] };
  let schema: object = first;
  for (let level = 1; level < levels; level++) {
    // The first field defines the level below; the others name it.
    const below = schema;
    const name = `l${level - 1}`;
    const record = recordOf(`l${level}`, fanOut, name) as { fields: { type: unknown }[] };
    record.fields[0]!.type = below;
    schema = record;
  }
  return schema;
}

export const BUILDING_BOMBS: readonly BuildingBomb[] = [
  {
    // 900,000 items (under the item limit), each a record of 50 nulls: 46 million values from 4 bytes.
    name: 'array of records of null fields',
    schema: { type: 'array', items: recordOf('nulls', 50, 'null') },
    datum: Buffer.concat([varint(900_000n), varint(0n)]),
    refused: /builds more than \d+ values/,
  },
  {
    // 8 levels of 10: 10^8 values from no bytes at all.
    name: 'named records nested 8 levels deep, 10 fields each',
    schema: nestedRecords(8, 10),
    datum: Buffer.alloc(0),
    refused: /expands to 1111111\d+ values .*more than the 100000 allowed/,
  },
  {
    // Nested records that pass the schema limit (4 levels of 10: 11,111 values each), as 500,000 items.
    name: 'array of nested records under the schema limit',
    schema: { type: 'array', items: nestedRecords(4, 10) },
    datum: Buffer.concat([varint(500_000n), varint(0n)]),
    refused: /builds more than \d+ values/,
  },
  {
    // A map's entries take a byte each (the key's length), its values nothing: a million records of
    // 40 nulls from a million bytes is within the item limit and 10 times over the value budget
    // (avsc keeps one entry of the million empty keys, but builds and walks them all).
    name: 'map of records of null fields',
    schema: { type: 'map', values: recordOf('nulls', 40, 'null') },
    datum: Buffer.concat([varint(1_000_000n), Buffer.alloc(1_000_000), varint(0n)]),
    refused: /builds more than \d+ values/,
  },
  {
    // The nesting behind a union: each branch index takes one byte, each level 10 fields.
    name: 'nested records behind unions',
    schema: { type: 'array', items: ['null', nestedRecords(4, 10)] },
    datum: Buffer.concat([varint(400_000n), Buffer.alloc(400_000, 2), varint(0n)]),
    refused: /builds more than \d+ values/,
  },
];
