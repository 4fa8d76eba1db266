// Avro schemas as the project handles them: 64-bit longs as bigint, schemas made valid by the spec
// without changing a single encoded byte, and the fingerprint that names a schema everywhere (the
// schema files, the science database, the consumer's look-up).
import avro from 'avsc';

/** A schema in its JSON form, as it appears in a container header, a `.avsc` file or a message key. */
export type AvroSchema = string | AvroSchema[] | { [key: string]: unknown };

/** A top-level record schema (alerts always are). */
export interface RecordSchema {
  type: 'record';
  name: string;
  namespace?: string;
  doc?: string;
  fields: FieldSchema[];
  [key: string]: unknown;
}

export interface FieldSchema {
  name: string;
  type: AvroSchema;
  default?: unknown;
  doc?: string;
  [key: string]: unknown;
}

export type AvroType = avro.Type;

/**
 * The internals of avsc's Type classes (avsc 5.7) that the project's own walks read (bounded.ts,
 * projection.ts, field-spans.ts): one description, so that an avsc upgrade is checked in one place.
 */
export interface AvscTypeParts {
  typeName: string;
  name?: string;
  fields?: readonly { name: string; type: AvroType }[];
  itemsType?: AvroType;
  valuesType?: AvroType;
  types?: readonly AvroType[];
  size?: number;
  symbols?: readonly string[];
  underlyingType?: AvroType;
}

// ZTF candids exceed 2^53: avsc's default long type would refuse them (or lose bits), so every
// long is a bigint, read and written as the zig-zag varint Avro uses.
const BigIntLong = avro.types.LongType.__with({
  fromBuffer: (buf: Buffer) => buf.readBigInt64LE(),
  toBuffer: (n: bigint) => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(n);
    return buf;
  },
  fromJSON: (json: unknown) => BigInt(json as string | number),
  toJSON: (n: bigint) => Number(n),
  isValid: (n: unknown) => typeof n === 'bigint',
  compare: (a: bigint, b: bigint) => (a === b ? 0 : a < b ? -1 : 1),
});

/** Parses a schema (already valid by the spec) into an avsc type whose longs are bigints. */
export function parseAvroType(schema: AvroSchema): AvroType {
  // A fresh registry each time: avsc records named types in it, and schemas of different alert
  // versions reuse the same names for different records.
  // The registry covers `"long"`; the hook covers `{"type": "long", ...}` (Rubin writes its
  // timestamps so, with a logicalType), which avsc would otherwise read as a number.
  return avro.Type.forSchema(schema as avro.Schema, {
    registry: { long: BigIntLong } as never,
    typeHook: (s: avro.Schema) => (typeof s === 'object' && s !== null && (s as { type?: unknown }).type === 'long' ? BigIntLong : undefined),
  } as never);
}

/**
 * Returns a copy of a schema valid by the Avro spec. Older ZTF schemas give nullable fields a
 * `null` default while `null` is not the union's first branch, which the spec forbids and strict
 * parsers reject. A default only matters to schema resolution, never to the encoding, so dropping it
 * changes no encoded byte. Union branches are never reordered: that would change the encoding.
 */
export function sanitizeSchema<S extends AvroSchema>(schema: S): S {
  return sanitize(schema) as S;
}

function sanitize(node: AvroSchema): AvroSchema {
  if (Array.isArray(node)) return node.map(sanitize);
  if (typeof node !== 'object' || node === null) return node;
  const copy: { [key: string]: unknown } = { ...node };
  if (node.type === 'record' || node.type === 'error') {
    copy.fields = (node.fields as FieldSchema[]).map((field) => {
      const out: FieldSchema = { ...field, type: sanitize(field.type) };
      if ('default' in field && !defaultFitsUnion(field.type, field.default)) delete out.default;
      return out;
    });
  } else if (node.type === 'array') {
    copy.items = sanitize(node.items as AvroSchema);
  } else if (node.type === 'map') {
    copy.values = sanitize(node.values as AvroSchema);
  } else if (typeof node.type === 'object' && node.type !== null) {
    copy.type = sanitize(node.type as AvroSchema);
  }
  return copy;
}

/** Whether a default is acceptable for a field type as far as unions go (the spec: first branch). */
function defaultFitsUnion(type: AvroSchema, value: unknown): boolean {
  if (!Array.isArray(type)) return true;
  const first = type[0];
  const firstName = typeof first === 'string' ? first : (first as { type?: unknown } | undefined)?.type;
  if (value === null) return firstName === 'null';
  return firstName !== 'null';
}

/**
 * The schema's fingerprint: the first 16 hex digits of the SHA-256 of its Parsing Canonical Form
 * (avsc's `schema()` output is that form: full names, no docs or defaults). Used in schema file
 * names and as the schema id in the science database.
 */
export function schemaFingerprint(type: AvroType): string {
  return type.fingerprint('sha256').toString('hex').slice(0, 16);
}

/** The message key: the writer schema as compact JSON text, UTF-8. */
export function compactSchemaJson(schema: AvroSchema): string {
  return JSON.stringify(schema);
}

/** A record schema extended by trailing top-level fields (values a broker adds to an alert). */
export function extendRecord(base: RecordSchema, added: readonly FieldSchema[]): RecordSchema {
  const names = new Set(base.fields.map((f) => f.name));
  const clash = added.find((f) => names.has(f.name));
  if (clash !== undefined) throw new Error(`added field '${clash.name}' already exists in record '${base.name}'`);
  return { ...base, fields: [...base.fields, ...added] };
}

export function isRecordSchema(schema: unknown): schema is RecordSchema {
  return typeof schema === 'object' && schema !== null && (schema as { type?: unknown }).type === 'record'
    && Array.isArray((schema as { fields?: unknown }).fields) && typeof (schema as { name?: unknown }).name === 'string';
}

// Real alert schemas nest about 12 levels of JSON (record, fields, field, union, array, record...).
const MAX_SCHEMA_DEPTH = 100;

/**
 * Throws if a schema's JSON nests deeper than real schemas come near (the functions that walk a
 * schema, here and in avsc, recurse, and a header or key from outside is not to decide how deep;
 * this walk keeps its own stack), or if a record's field is not an object with a name.
 */
export function checkSchemaShape(schema: unknown, max = MAX_SCHEMA_DEPTH): void {
  const stack: [unknown, number][] = [[schema, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (typeof node !== 'object' || node === null) continue;
    if (depth > max) throw new Error(`the schema nests more than ${max} levels deep`);
    const fields = (node as { fields?: unknown }).fields;
    if (Array.isArray(fields)) {
      const bad = fields.findIndex((f) => typeof f !== 'object' || f === null || typeof (f as { name?: unknown }).name !== 'string');
      if (bad >= 0) throw new Error(`field #${bad + 1} of a record is ${fields[bad] === null ? 'null' : `a ${typeof fields[bad]}`}, not an object with a name`);
    }
    for (const child of Object.values(node)) if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
  }
}
