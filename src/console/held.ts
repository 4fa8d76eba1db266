// An alert the console holds for its page: the bytes and the schema that decodes them, where it
// came from, and its table row. Detail views decode it again on demand, so only the bytes are kept.
import { parseAvroType, type AvroType, type RecordSchema } from '../avro/schema.ts';
import { Lru } from '../lru.ts';
import { alertRow, surveyOf, type AlertRow, type Survey } from './alert-view.ts';

export interface HeldAlert {
  /** Stable in URLs: `topic:partition:offset` for the stream, `db:night:seq` for the science database. */
  id: string;
  /** Topic/partition@offset, or the science database's night and sequence. */
  origin: string;
  topic: string | null;
  /** When Kafka stamped it (ms), or when it was stored. */
  timeMs: number;
  schema: RecordSchema;
  type: AvroType;
  value: Uint8Array;
  survey: Survey;
  row: AlertRow;
}

/** The JSON that a table row of the page receives. */
export interface RowMessage extends AlertRow {
  id: string;
  topic: string | null;
  timeMs: number;
}

export function rowMessage(alert: HeldAlert): RowMessage {
  return { id: alert.id, topic: alert.topic, timeMs: alert.timeMs, ...alert.row };
}

export function decodeHeld(alert: HeldAlert): Record<string, unknown> {
  return alert.type.fromBuffer(Buffer.from(alert.value.buffer, alert.value.byteOffset, alert.value.byteLength)) as Record<string, unknown>;
}

/** Makes a held alert from a decoded record (the record gives the row; the bytes are kept). */
export function holdAlert(fields: Omit<HeldAlert, 'survey' | 'row'>, record: Record<string, unknown>): HeldAlert {
  const survey = surveyOf(fields.schema);
  return { ...fields, survey, row: alertRow(survey, record) };
}

const parsed = new Lru<string, AvroType>(16);

/** A schema's avsc type, parsed once per schema text. */
export function typeOf(schemaJson: string): AvroType {
  let type = parsed.get(schemaJson);
  if (type === undefined) parsed.set(schemaJson, (type = parseAvroType(JSON.parse(schemaJson) as RecordSchema)));
  return type;
}

/** The alerts the page may ask about, the most recent few hundred. */
export class HeldAlerts {
  readonly #byId: Lru<string, HeldAlert>;

  constructor(capacity: number) {
    this.#byId = new Lru(capacity);
  }

  add(alert: HeldAlert): void {
    this.#byId.set(alert.id, alert);
  }

  get(id: string): HeldAlert | undefined {
    return this.#byId.get(id);
  }
}
