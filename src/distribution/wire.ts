// What goes on the wire for an alert (docs/architecture.md, Wire contract): the value is the schemaless Avro datum, the
// key the writer schema as compact JSON. A full topic sends the stored datum followed by the
// datum of the values added to it, unchanged: no decoding. A topic that drops fields has its own
// schema and re-encodes, skipping the dropped fields while decoding.
import { compactSchemaJson, extendRecord, parseAvroType, schemaFingerprint, type AvroType, type RecordSchema } from '../avro/schema.ts';
import type { StoredAlert } from '../sciencedb/reader.ts';

export interface WireSchema {
  schema: RecordSchema;
  fingerprint: string;
  /** The message key: the schema as compact JSON, UTF-8. */
  key: Buffer;
  /** The message value for a stored alert. */
  encode(alert: StoredAlert): Buffer;
}

type SchemaSource = (schemaId: string) => string;

export class WireSchemas {
  readonly #source: SchemaSource;
  readonly #cache = new Map<string, WireSchema>();

  /** `source` gives the stored JSON of a schema id (the science database's schema table). */
  constructor(source: SchemaSource) {
    this.#source = source;
  }

  /** The wire schema of an alert on a topic that drops `drop` (none: the full alert). */
  forAlert(alert: StoredAlert, drop: readonly string[] = []): WireSchema {
    const cacheKey = `${alert.schemaId}+${alert.added?.schemaId ?? ''}-${drop.join(',')}`;
    let wire = this.#cache.get(cacheKey);
    if (wire === undefined) {
      wire = drop.length === 0 ? this.#full(alert) : this.#selecting(alert, drop);
      this.#cache.set(cacheKey, wire);
    }
    return wire;
  }

  #fullSchema(alert: StoredAlert): RecordSchema {
    const base = JSON.parse(this.#source(alert.schemaId)) as RecordSchema;
    if (alert.added === null) return base;
    const added = JSON.parse(this.#source(alert.added.schemaId)) as RecordSchema;
    return extendRecord(base, added.fields);
  }

  #full(alert: StoredAlert): WireSchema {
    const schema = this.#fullSchema(alert);
    const type = parseAvroType(schema);
    return {
      schema,
      fingerprint: schemaFingerprint(type),
      key: Buffer.from(compactSchemaJson(schema)),
      // Avro writes a record's fields one after the other: the added fields simply follow, and
      // the reader hands them over already contiguous.
      encode: (a) => Buffer.from(a.wire.buffer, a.wire.byteOffset, a.wire.byteLength),
    };
  }

  #selecting(alert: StoredAlert, drop: readonly string[]): WireSchema {
    const full = this.#fullSchema(alert);
    const schema: RecordSchema = { ...full, fields: full.fields.filter((f) => !drop.includes(f.name)) };
    const fullType: AvroType = parseAvroType(full);
    const type: AvroType = parseAvroType(schema);
    // Decoding the full datum with the smaller schema as reader skips the dropped fields' bytes.
    const resolver = type.createResolver(fullType);
    const fullWire = this.#full(alert);
    return {
      schema,
      fingerprint: schemaFingerprint(type),
      key: Buffer.from(compactSchemaJson(schema)),
      encode: (a) => type.toBuffer(type.fromBuffer(fullWire.encode(a), resolver)),
    };
  }
}
