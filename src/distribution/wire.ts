// What goes on the wire for an alert (docs/architecture.md, Wire contract): the value is the schemaless Avro datum, the
// key the writer schema as compact JSON. A full topic sends the stored datum followed by the
// datum of the values added to it, unchanged: no decoding. A topic that drops fields has its own
// schema and cuts the kept fields' bytes out of the stored datum (avro/field-spans.ts), decoding and
// encoding again only a datum it cannot cut.
import { compactSchemaJson, extendRecord, parseAvroType, schemaFingerprint, type AvroType, type RecordSchema } from '../avro/schema.ts';
import { fieldEnds, SpanError } from '../avro/field-spans.ts';
import type { StoredAlert } from '../sciencedb/reader.ts';

/** An alert as the distribution sends it: a stored alert of either store (the science log has no `seq`). */
export type SendableAlert = StoredAlert extends infer A ? (A extends unknown ? Omit<A, 'seq'> : never) : never;

export interface WireSchema {
  schema: RecordSchema;
  /** The schema parsed. */
  type: AvroType;
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
  /**
   * The same by what is dropped rather than by which array says it: topics that drop the same
   * fields through arrays of their own (a user filter's, a shipped light topic's) share one wire
   * schema, parsed once (an avsc type of a Rubin alert takes megabytes to build).
   */
  readonly #made = new Map<string, WireSchema>();

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
      const made = `${drop.join('\n')}\t${alert.schemaId}\t${added}`;
      wire = this.#made.get(made);
      if (wire === undefined) this.#made.set(made, (wire = drop.length === 0 ? this.#full(alert) : this.#selecting(alert, drop)));
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
      type,
      fingerprint: schemaFingerprint(type),
      key: Buffer.from(compactSchemaJson(schema)),
      // Avro writes a record's fields one after the other: the added fields simply follow, and
      // the reader hands them over already contiguous.
      encode: (a) => Buffer.from(a.wire.buffer, a.wire.byteOffset, a.wire.byteLength),
    };
  }

  #selecting(alert: SendableAlert, drop: readonly string[]): WireSchema {
    const fullWire = this.forAlert(alert);
    const full = fullWire.schema;
    const schema: RecordSchema = { ...full, fields: full.fields.filter((f) => !drop.includes(f.name)) };
    const fullType = fullWire.type;
    const type: AvroType = parseAvroType(schema);
    // Decoding the full datum with the smaller schema as reader skips the dropped fields' bytes:
    // the way for a datum whose fields cannot be cut out (a shape the walk does not know, or bad bytes).
    // Made at the first such datum: a Rubin light schema's resolver took 20 ms to build, and the
    // cut serves every datum the walk knows.
    let resolver: ReturnType<AvroType['createResolver']> | undefined;
    const cut = cutter(fullType, full.fields.map((f) => !drop.includes(f.name)));
    return {
      schema,
      type,
      fingerprint: schemaFingerprint(type),
      key: Buffer.from(compactSchemaJson(schema)),
      encode: (a) => {
        const datum = fullWire.encode(a);
        if (cut !== undefined) {
          try {
            return cut(datum);
          } catch (err) {
            if (!(err instanceof SpanError)) throw err;
          }
        }
        return type.toBuffer(type.fromBuffer(datum, (resolver ??= type.createResolver(fullType))));
      },
    };
  }
}

/**
 * The datum of the kept fields cut out of a full one (field-spans.ts): the same value as decoding
 * and encoding again, without building it. A view of the datum when the kept fields are
 * contiguous, else a copy of their ranges.
 */
function cutter(fullType: AvroType, kept: readonly boolean[]): ((datum: Buffer) => Buffer) | undefined {
  const endsOf = fieldEnds(fullType);
  if (endsOf === undefined) return undefined;
  return (datum) => {
    const ends = endsOf(datum);
    const ranges: [number, number][] = [];
    let bytes = 0;
    for (let i = 0, start = 0; i < ends.length; start = ends[i++]!) {
      if (!kept[i]) continue;
      const last = ranges.at(-1);
      if (last !== undefined && last[1] === start) last[1] = ends[i]!;
      else ranges.push([start, ends[i]!]);
      bytes += ends[i]! - start;
    }
    if (ranges.length === 1) return datum.subarray(ranges[0]![0], ranges[0]![1]);
    const out = Buffer.allocUnsafe(bytes);
    let at = 0;
    for (const [from, to] of ranges) at += datum.copy(out, at, from, to);
    return out;
  };
}
