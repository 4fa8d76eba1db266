// Decoding only the part of a datum that a caller reads. Avro's schema resolution lets a reader
// schema that lists fewer fields read a writer's datum, skipping the others without building them
// (avsc compiles the skips); a reader array of empty records gives the length of the writer's array
// of records without building them. Stream2science reads about twenty values of a 190 KB Rubin
// alert (the three cutouts and hundreds of history records among what it does not need), so
// decoding the whole of it was most of its decoding time and garbage. The projection is built from
// the writer's parsed type: each record read becomes a record of another name aliased to the
// writer's (a named type may be read in two shapes, the triggering diaSource in full and the
// history's diaSources as empty records), so the values read are those of the full decode, field
// for field, with the same types (bigint longs, 32-bit floats).
import type avro from 'avsc';
import { parseAvroType, type AvroSchema, type AvroType, type AvscTypeParts } from './schema.ts';

/**
 * What is read of a value: `'all'` the value itself (a primitive, or a union of primitives),
 * `'count'` an array's length (its items are not read), or a record's fields by name, each with
 * what is read of it. A union is read branch by branch, nulls kept.
 */
export type Need = 'all' | 'count' | { readonly [field: string]: Need };

/** A reader type and its resolver from one writer type: `reader.decode(buf, pos, resolver)`. */
export interface Projection {
  reader: AvroType;
  resolver: avro.Resolver;
}

const PRIMITIVE: Readonly<Record<string, string>> = {
  null: 'null', boolean: 'boolean', int: 'int', long: 'long', 'abstract:long': 'long', float: 'float', double: 'double', bytes: 'bytes', string: 'string',
};

/** Thrown inside the walk for a shape the projection does not take: the caller decodes in full. */
class Unprojectable extends Error {}

/** What is read of a value inside the walk: also `'shape'`, an array item of which nothing is read. */
type Reading = Need | 'shape';

/** Builds the reader schema; `names` numbers the records it makes. */
function readerSchema(type: AvroType, need: Reading, names: { next: number }): unknown {
  const t = type as unknown as AvscTypeParts;
  const primitive = PRIMITIVE[t.typeName];
  if (primitive !== undefined) {
    // A null is read whatever is asked of it (the absent branch of a nullable record or array), and
    // an item's primitive as it is (reading it builds nothing).
    if (need !== 'all' && need !== 'shape' && primitive !== 'null') throw new Unprojectable();
    return primitive;
  }
  // Only unions whose value is the branch's own (unwrapped): a wrapped one names its branch in the value.
  if (t.typeName === 'union:unwrapped') return t.types!.map((b) => readerSchema(b, need, names));
  if (t.typeName === 'array' && need !== 'all') {
    // The length alone: each item's shape, records read as empty records.
    return { type: 'array', items: readerSchema(t.itemsType!, need === 'count' ? 'shape' : need, names) };
  }
  if ((t.typeName === 'record' || t.typeName === 'error') && (typeof need === 'object' || need === 'shape')) {
    const fields = need === 'shape' ? [] : t.fields!.flatMap((f) => (need[f.name] === undefined ? [] : [{ name: f.name, type: readerSchema(f.type, need[f.name]!, names) }]));
    return { type: 'record', name: `fink.projection.r${names.next++}`, aliases: [t.name!], fields };
  }
  throw new Unprojectable();
}

/**
 * The reader that decodes only `need` of datums of `writer`, or undefined where the writer's shape
 * is not one the projection takes (a needed value of a named type, a wrapped union, a map...): the
 * caller then decodes in full. Fields named in `need` that the writer lacks are left out, as the
 * full decode leaves them out.
 */
export function projectType(writer: AvroType, need: Need): Projection | undefined {
  let schema;
  try {
    schema = readerSchema(writer, need, { next: 0 });
  } catch (err) {
    if (err instanceof Unprojectable) return undefined;
    throw err;
  }
  const reader = parseAvroType(schema as AvroSchema);
  return { reader, resolver: reader.createResolver(writer) };
}
