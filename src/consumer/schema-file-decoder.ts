// Decoding messages the way a consumer without a schema registry does, but checking the files: the
// key's schema gives the fingerprint, the fingerprint names the schema file written beside
// DISTRIBUTION_SCHEMA, and that file (not the key) decodes the value.
import { readFileSync } from 'node:fs';
import { parseAvroType, schemaFingerprint, type AvroType, type RecordSchema } from '../avro/schema.ts';
import { schemaFileFor } from '../avro/schema-file-name.ts';
import { FinkError } from '../errors.ts';

/** A message that does not decode with its schema file; the message names topic/partition@offset. */
export class DecodeError extends FinkError {
  constructor(message: string) {
    super(message, { code: 'FINK_DECODE' });
    this.name = 'DecodeError';
  }
}

export interface DecodedSchema {
  fingerprint: string;
  file: string;
  schema: RecordSchema;
  type: AvroType;
}

export class SchemaFileDecoder {
  readonly #base: string;
  readonly #byKey = new Map<string, DecodedSchema>();

  constructor(base: string) {
    this.#base = base;
  }

  schemaOf(key: Buffer | null, where: string): DecodedSchema {
    if (key === null) throw new DecodeError(`${where}: the message has no key (it should hold the writer schema)`);
    const text = key.toString('utf8');
    let hit = this.#byKey.get(text);
    if (hit === undefined) {
      let fingerprint: string;
      try {
        fingerprint = schemaFingerprint(parseAvroType(JSON.parse(text)));
      } catch (err) {
        throw new DecodeError(`${where}: the key is not an Avro schema (${(err as Error).message})`);
      }
      const file = schemaFileFor(this.#base, fingerprint);
      let schema: RecordSchema;
      try {
        schema = JSON.parse(readFileSync(file, 'utf8')) as RecordSchema;
      } catch (err) {
        throw new DecodeError(`${where}: no usable schema file for fingerprint ${fingerprint} (${file}: ${(err as Error).message})`);
      }
      const type = parseAvroType(schema);
      if (schemaFingerprint(type) !== fingerprint) throw new DecodeError(`${where}: ${file} does not hold the schema of fingerprint ${fingerprint}`);
      hit = { fingerprint, file, schema, type };
      this.#byKey.set(text, hit);
    }
    return hit;
  }

  decode(key: Buffer | null, value: Buffer | null, where: string): { schema: DecodedSchema; record: Record<string, unknown> } {
    const schema = this.schemaOf(key, where);
    if (value === null) throw new DecodeError(`${where}: the message has no value`);
    let record: Record<string, unknown>;
    try {
      const { value: decoded, offset } = schema.type.decode(value, 0);
      if (offset !== value.length) throw new Error(offset < 0 ? 'the value is cut short' : `${value.length - offset} bytes left over`);
      record = decoded as Record<string, unknown>;
    } catch (err) {
      throw new DecodeError(`${where}: the value does not decode with ${schema.file} (${(err as Error).message})`);
    }
    return { schema, record };
  }
}
