// Decoding messages the way a consumer without a schema registry does, but checking the files: the
// key's schema gives the fingerprint, the fingerprint names the schema file written beside
// DISTRIBUTION_SCHEMA, and that file (not the key) decodes the value. A message comes from anyone
// who can write to the topic: its key may be anything, its value is checked (src/avro/bounded.ts)
// before avsc decodes it, and the caches keyed by what messages hold are bounded.
import { readFileSync } from 'node:fs';
import { checkDatum, DatumError } from '../avro/bounded.ts';
import { checkSchemaShape, parseAvroType, schemaFingerprint, type AvroType, type RecordSchema } from '../avro/schema.ts';
import { schemaFileFor } from '../avro/schema-file-name.ts';
import { FinkError } from '../errors.ts';
import { Lru } from '../lru.ts';
import { printable } from '../printable.ts';

/** A message that cannot be decoded; the message names it (`where`) and says why. */
export class DecodeError extends FinkError {
  constructor(message: string) {
    super(printable(message), { code: 'FINK_DECODE' });
    this.name = 'DecodeError';
  }
}

export interface DecodedSchema {
  fingerprint: string;
  /** Where the schema came from: its schema file, or `schema id N of the registry` (a Confluent message). */
  source: string;
  schema: RecordSchema;
  type: AvroType;
}

// Keys that differ only in docs (or spacing) name one schema: many texts, few schema files.
const KEYS_CACHED = 64;
const FILES_CACHED = 16;

export class SchemaFileDecoder {
  readonly #base: string;
  readonly #byKey = new Lru<string, DecodedSchema>(KEYS_CACHED);
  readonly #byFingerprint = new Lru<string, DecodedSchema>(FILES_CACHED);

  constructor(base: string) {
    this.#base = base;
  }

  /** Key texts remembered now (never more than a fixed few). */
  get cachedKeys(): number {
    return this.#byKey.size;
  }

  schemaOf(key: Buffer | null, where: string): DecodedSchema {
    if (key === null) throw new DecodeError(`${where}: the message has no key (it should hold the writer schema)`);
    const text = key.toString('utf8');
    let hit = this.#byKey.get(text);
    if (hit === undefined) {
      let fingerprint: string;
      try {
        const schema: unknown = JSON.parse(text);
        checkSchemaShape(schema);
        fingerprint = schemaFingerprint(parseAvroType(schema as RecordSchema));
      } catch (err) {
        throw new DecodeError(`${where}: the key is not an Avro schema (${(err as Error).message})`);
      }
      hit = this.#byFingerprint.get(fingerprint) ?? this.#load(fingerprint, where);
      this.#byKey.set(text, hit);
    }
    return hit;
  }

  #load(fingerprint: string, where: string): DecodedSchema {
    const file = schemaFileFor(this.#base, fingerprint);
    let schema: RecordSchema;
    let type: AvroType;
    try {
      schema = JSON.parse(readFileSync(file, 'utf8')) as RecordSchema;
      type = parseAvroType(schema);
    } catch (err) {
      throw new DecodeError(`${where}: no usable schema file for fingerprint ${fingerprint} (${file}: ${(err as Error).message})`);
    }
    if (schemaFingerprint(type) !== fingerprint) throw new DecodeError(`${where}: ${file} does not hold the schema of fingerprint ${fingerprint}`);
    const loaded = { fingerprint, source: file, schema, type };
    this.#byFingerprint.set(fingerprint, loaded);
    return loaded;
  }

  decode(key: Buffer | null, value: Buffer | null, where: string): { schema: DecodedSchema; record: Record<string, unknown> } {
    const schema = this.schemaOf(key, where);
    if (value === null) throw new DecodeError(`${where}: the message has no value`);
    return { schema, record: decodeDatum(schema, value, where) };
  }
}

/** A datum checked against its schema (src/avro/bounded.ts), all of it used, then decoded; else DecodeError. */
export function decodeDatum(schema: DecodedSchema, datum: Buffer, where: string): Record<string, unknown> {
  const fail = (reason: string) => new DecodeError(`${where}: the value does not decode with ${schema.source} (${reason})`);
  let end: number;
  try {
    end = checkDatum(schema.type, datum);
  } catch (err) {
    if (err instanceof DatumError) throw fail(err.message);
    throw err;
  }
  if (end !== datum.length) throw fail(`${datum.length - end} bytes left over after the alert`);
  try {
    return schema.type.decode(datum, 0).value as Record<string, unknown>;
  } catch (err) {
    throw fail((err as Error).message);
  }
}
