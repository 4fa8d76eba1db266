// What goes on the wire for an alert (docs/architecture.md, Wire contract): the value is the schemaless Avro datum, the
// key the writer schema as compact JSON. A full topic sends the stored datum followed by the
// datum of the values added to it, unchanged: no decoding. A topic that drops fields has its own
// schema and re-encodes, skipping the dropped fields while decoding.
import { compactSchemaJson, extendRecord, parseAvroType, schemaFingerprint, type AvroType, type RecordSchema } from '../avro/schema.ts';
import type { StoredAlert } from '../sciencedb/reader.ts';

/** An alert as the distribution sends it: a stored alert of either store (the science log has no `seq`). */
export type SendableAlert = StoredAlert extends infer A ? (A extends unknown ? Omit<A, 'seq'> : never) : never;

export interface WireSchema {
  schema: RecordSchema;
  fingerprint: string;
  /** The message key: the schema as compact JSON, UTF-8. */
  key: Buffer;
  /** The message value for a stored alert. */
  encode(alert: SendableAlert): Buffer;
}

type SchemaSource = (schemaId: string) => string;

const NO_FIELDS: readonly string[] = [];

export class WireSchemas {
  readonly #source: SchemaSource;
  /** By the fields a topic drops (its plan's own array), the alert's schema and its added values' schema: no key is built per alert. */
  readonly #cache = new Map<readonly string[], Map<string, Map<string, WireSchema>>>();

  /** `source` gives the stored JSON of a schema id (the science database's schema table). */
  constructor(source: SchemaSource) {
    this.#source = source;
  }

  /** The wire schema of an alert on a topic that drops `drop` (none: the full alert). */
  forAlert(alert: SendableAlert, drop: readonly string[] = NO_FIELDS): WireSchema {
    let byDrop = this.#cache.get(drop);
    if (byDrop === undefined) this.#cache.set(drop, (byDrop = new Map()));
    let byAdded = byDrop.get(alert.schemaId);
    if (byAdded === undefined) byDrop.set(alert.schemaId, (byAdded = new Map()));
    const added = alert.added?.schemaId ?? '';
    let wire = byAdded.get(added);
    if (wire === undefined) {
      wire = drop.length === 0 ? this.#full(alert) : this.#selecting(alert, drop);
      byAdded.set(added, wire);
    }
    return wire;
  }

  #fullSchema(alert: SendableAlert): RecordSchema {
    const base = JSON.parse(this.#source(alert.schemaId)) as RecordSchema;
    if (alert.added === null) return base;
    const added = JSON.parse(this.#source(alert.added.schemaId)) as RecordSchema;
    return extendRecord(base, added.fields);
  }

  #full(alert: SendableAlert): WireSchema {
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

  #selecting(alert: SendableAlert, drop: readonly string[]): WireSchema {
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
