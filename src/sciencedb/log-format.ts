// The science log's records (SCIENCE_STORE=kafka, DESIGN.md section 5): one retained topic per
// survey, keyed by the alert's object so that an object's alerts, and any duplicate of one, share
// a partition; and one compacted topic of schemas, keyed by fingerprint, written before any alert
// that uses them. A record's value carries what a row of a night's SQLite file carries: the datum
// exactly as it arrived followed by the added values' datum (contiguous, so that the distribution
// sends it without a copy), the writer schemas' fingerprints, and the typed fields that filters
// read, so that no instance decodes an alert's datum to filter it.
import type { AlertView, Survey } from '../alert/survey.ts';
import { parseAvroType, type AvroType } from '../avro/schema.ts';
import { FinkError } from '../errors.ts';
import { STORE_COLUMNS, type ColumnKind, type NewAlert } from './store.ts';

/** The first byte of every alert record: a later layout gets another, and a reader names what it cannot read. */
export const LOG_FORMAT_VERSION = 1;

export const DEFAULT_SCIENCE_TOPIC_PREFIX = 'fink_science_';

/** The retained topic of a survey's alerts. */
export function scienceTopic(prefix: string, survey: Survey): string {
  return `${prefix}${survey}`;
}

/** The compacted topic of the schemas that the alerts of every survey name by fingerprint. */
export function schemaTopic(prefix: string): string {
  return `${prefix}schemas`;
}

/** A record of the science log that is not one: the message names the topic, partition and offset. */
export class LogRecordError extends FinkError {
  constructor(message: string) {
    super(message, { code: 'FINK_BAD_LOG_RECORD' });
    this.name = 'LogRecordError';
  }
}

/** An alert as the science log holds it: what the distribution needs, the datum never decoded. */
export type LoggedAlert = AlertView & {
  /** Fingerprint of the writer schema of `datum`. */
  schemaId: string;
  datum: Uint8Array;
  /** `datum` followed by the added values' datum (`datum` and `added.datum` are views into it). */
  wire: Uint8Array;
  added: { schemaId: string; datum: Uint8Array } | null;
  /** When the alert was written to the log (ms since the epoch). */
  ingestedMs: number;
};

const FIELD_TYPE: Record<ColumnKind, string> = { real: 'double', int: 'double', text: 'string', bool: 'boolean', id: 'long' };

/** The envelope's fields before `wire`, in its order. */
const HEAD_FIELDS = [
  { name: 'alertId', type: 'long' },
  { name: 'objectKey', type: 'string' },
  { name: 'night', type: 'string' },
  { name: 'ingestedMs', type: 'long' },
  { name: 'schemaId', type: 'string' },
  { name: 'addedSchemaId', type: ['null', 'string'] },
  { name: 'datumLength', type: 'int' },
];

function fieldsSchema(columns: typeof STORE_COLUMNS): Record<string, unknown> {
  return { type: 'record', name: 'fields', fields: columns.map((c) => ({ name: c.name, type: ['null', FIELD_TYPE[c.kind]] })) };
}

/** The record as readers decode it (decodeLogAlert): the head, the wire's bytes, the typed fields. */
function envelopeType(survey: Survey, columns: typeof STORE_COLUMNS): AvroType {
  return parseAvroType({
    type: 'record',
    name: `fink.science_log.${survey}.v${LOG_FORMAT_VERSION}`,
    fields: [...HEAD_FIELDS, { name: 'wire', type: 'bytes' }, { name: 'fields', type: fieldsSchema(columns) }],
  });
}

interface EnvelopeTypes {
  /** The whole record, for reading. */
  type: AvroType;
  /**
   * Its parts for writing: an Avro record's encoding is its fields' encodings one after the other,
   * so the head, the wire's length and bytes, then the typed fields make the same bytes as `type`
   * while the wire (a Rubin alert's 187 KB) is copied once, into the value, instead of three times
   * (joined, into avsc's buffer, behind the format byte).
   */
  head: AvroType;
  fields: AvroType;
  columns: typeof STORE_COLUMNS;
}

function envelopeTypes(survey: Survey): EnvelopeTypes {
  const columns = STORE_COLUMNS.filter((c) => c.surveys.includes(survey));
  return {
    type: envelopeType(survey, columns),
    head: parseAvroType({ type: 'record', name: `fink.science_log.${survey}.head`, fields: HEAD_FIELDS }),
    fields: parseAvroType(fieldsSchema(columns)),
    columns,
  };
}

const ENVELOPES: Record<Survey, EnvelopeTypes> = { ztf: envelopeTypes('ztf'), lsst: envelopeTypes('lsst') };

interface Envelope {
  alertId: bigint;
  objectKey: string;
  night: string;
  ingestedMs: bigint;
  schemaId: string;
  addedSchemaId: string | null;
  datumLength: number;
  wire: Buffer;
  fields: Record<string, unknown>;
}

function fieldValue(kind: ColumnKind, value: unknown): unknown {
  if (value === undefined || value === null) return null;
  if (kind === 'id') return typeof value === 'bigint' ? value : BigInt(value as number);
  return value;
}

/** Bytes of Avro's zig-zag varint of a length (a non-negative long below 2^53). */
function lengthBytes(n: number): number {
  let bytes = 1;
  for (let z = n * 2; z >= 0x80; z = Math.floor(z / 0x80)) bytes++;
  return bytes;
}

/** Writes Avro's zig-zag varint of a length at `at`; returns where it ends. */
function writeLength(out: Buffer, n: number, at: number): number {
  let z = n * 2;
  while (z >= 0x80) {
    out[at++] = (z % 0x80) | 0x80;
    z = Math.floor(z / 0x80);
  }
  out[at++] = z;
  return at;
}

/**
 * The record value of an alert written at `ingestedMs`, in a new buffer or in the `size` bytes that
 * `take` hands out (a writer's arena, reused once its transaction is over).
 */
export function encodeLogAlert(alert: NewAlert, ingestedMs: number, take: (size: number) => Buffer = Buffer.allocUnsafe): Buffer {
  const { head, fields: fieldsType, columns } = ENVELOPES[alert.survey];
  const source = alert.fields as unknown as Record<string, unknown>;
  const fields: Record<string, unknown> = {};
  for (const c of columns) fields[c.name] = fieldValue(c.kind, source[c.name]);
  const headBytes = head.toBuffer({
    alertId: alert.alertId,
    objectKey: alert.objectKey,
    night: alert.night,
    ingestedMs: BigInt(ingestedMs),
    schemaId: alert.schemaId,
    addedSchemaId: alert.added?.schemaId ?? null,
    datumLength: alert.datum.length,
  });
  const fieldBytes = fieldsType.toBuffer(fields);
  const added = alert.added?.datum;
  const wireLength = alert.datum.length + (added?.length ?? 0);
  const value = take(1 + headBytes.length + lengthBytes(wireLength) + wireLength + fieldBytes.length);
  value[0] = LOG_FORMAT_VERSION;
  let at = 1 + headBytes.copy(value, 1);
  at = writeLength(value, wireLength, at);
  value.set(alert.datum, at);
  at += alert.datum.length;
  if (added !== undefined) {
    value.set(added, at);
    at += added.length;
  }
  fieldBytes.copy(value, at);
  return value;
}

/** The record key of an alert: its object, so that an object's alerts share a partition. */
export function logKey(alert: Pick<AlertView, 'objectKey'>): Buffer {
  return Buffer.from(alert.objectKey, 'utf8');
}

/** Decodes a record value of `survey`'s topic; LogRecordError, naming `where`, if it is not one. */
export function decodeLogAlert(survey: Survey, value: Uint8Array, where: string): LoggedAlert {
  if (value.length === 0 || value[0] !== LOG_FORMAT_VERSION) {
    throw new LogRecordError(`${where}: not a science log record of format ${LOG_FORMAT_VERSION} (first byte ${value.length === 0 ? 'absent' : value[0]})`);
  }
  const { type, columns } = ENVELOPES[survey];
  let envelope: Envelope;
  try {
    const buf = Buffer.from(value.buffer, value.byteOffset + 1, value.length - 1);
    envelope = type.fromBuffer(buf) as Envelope;
  } catch (err) {
    throw new LogRecordError(`${where}: not a ${survey} science log record (${(err as Error).message})`);
  }
  const { wire, datumLength } = envelope;
  if (datumLength < 0 || datumLength > wire.length) throw new LogRecordError(`${where}: datum length ${datumLength} outside its ${wire.length} bytes`);
  const fields: Record<string, unknown> = survey === 'lsst' ? { diaSourceId: envelope.alertId } : { objectId: envelope.objectKey, candid: envelope.alertId };
  for (const c of columns) fields[c.name] = envelope.fields[c.name] ?? null;
  return {
    survey,
    alertId: envelope.alertId,
    objectKey: envelope.objectKey,
    night: envelope.night,
    schemaId: envelope.schemaId,
    wire,
    datum: wire.subarray(0, datumLength),
    added: envelope.addedSchemaId === null ? null : { schemaId: envelope.addedSchemaId, datum: wire.subarray(datumLength) },
    ingestedMs: Number(envelope.ingestedMs),
    fields,
  } as unknown as LoggedAlert;
}
