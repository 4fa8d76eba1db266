// `fink start distribution_test`'s reading: a topic read back as a read_committed consumer, each
// message decoded in its format (fink: with its schema file; Confluent: with its schema id, through
// the registry), the alerts counted per writer schema whatever their format and, when they are to
// be saved, kept (their datums for an Avro file, their records for Parquet). A message that does
// not decode is reported and passed over.
import { writeFileSync } from 'node:fs';
import type { RecordSchema } from '../avro/schema.ts';
import { encodeContainer } from '../avro/container.ts';
import type { KafkaConnection } from '../kafka/client-options.ts';
import { isUnreachable, unreachableError } from '../kafka/errors.ts';
import { readTopic } from '../kafka/topic-reader.ts';
import type { MessageDecoder, WireFormat } from './message-decoder.ts';
import { showAnyMessage, type ShownMessage } from './messages.ts';
import { writeParquet } from './parquet.ts';
import { DecodeError } from './schema-file-decoder.ts';
import type { Survey } from './table.ts';

export type SavedFormat = '.avro' | '.parquet';

export interface ReadBackOptions {
  decoder: MessageDecoder;
  /** Stop after this many alerts, following the topic until they come (or `signal` aborts); else read to the end seen at start. */
  limit?: number;
  signal?: AbortSignal;
  /** Keep what a file of this format needs. */
  keep?: SavedFormat;
  /** Each alert decoded, in order (the table rows are printed from here). */
  onAlert?: (shown: ShownMessage, index: number) => void;
  /** Each message that does not decode. */
  onBad?: (err: DecodeError) => void;
}

export interface SchemaAlerts {
  count: number;
  schema: RecordSchema;
  survey: Survey;
  /** Where their schema came from, in order of first appearance: its schema file, its registry id. */
  sources: string[];
  datums: Buffer[];
  records: Record<string, unknown>[];
}

export interface ReadBack {
  /** By schema fingerprint, in order of first appearance. */
  perSchema: Map<string, SchemaAlerts>;
  count: number;
  /** The alerts of each format. */
  formats: Record<WireFormat, number>;
  bad: number;
}

const SOURCES_SHOWN = 4;

export async function readBack(connection: KafkaConnection, topic: string, options: ReadBackOptions): Promise<ReadBack> {
  const { decoder, limit, keep } = options;
  const result: ReadBack = { perSchema: new Map(), count: 0, formats: { fink: 0, confluent: 0 }, bad: 0 };
  try {
    for await (const message of readTopic(connection, topic, { follow: limit !== undefined, signal: options.signal })) {
      let shown: ShownMessage;
      try {
        shown = await showAnyMessage(decoder, topic, message);
      } catch (err) {
        if (!(err instanceof DecodeError)) throw err;
        options.onBad?.(err);
        result.bad++;
        continue;
      }
      const { schema, record, survey, datum } = shown;
      let entry = result.perSchema.get(schema.fingerprint);
      if (entry === undefined) result.perSchema.set(schema.fingerprint, (entry = { count: 0, schema: schema.schema, survey, sources: [], datums: [], records: [] }));
      // A few say enough: a schema's file and its id in a registry or two.
      if (entry.sources.length < SOURCES_SHOWN && !entry.sources.includes(schema.source)) entry.sources.push(schema.source);
      entry.count++;
      result.formats[shown.format]++;
      if (keep === '.avro') entry.datums.push(datum);
      if (keep === '.parquet') entry.records.push(record);
      options.onAlert?.(shown, result.count);
      result.count++;
      if (limit !== undefined && result.count >= limit) break;
    }
  } catch (err) {
    if (isUnreachable(err)) throw unreachableError(connection.bootstrapBrokers, err);
    throw err;
  }
  return result;
}

/**
 * Saves the alerts kept, one file per schema: the first schema's at `out`, the others beside it
 * as `<out>-<fingerprint>.<ext>`; `onSaved` hears of each file as soon as it is written.
 */
export async function saveAlerts(perSchema: ReadonlyMap<string, SchemaAlerts>, out: string, format: SavedFormat, onSaved: (file: string, count: number) => void): Promise<void> {
  let first = true;
  for (const [fingerprint, s] of perSchema) {
    const file = first ? out : `${out.slice(0, -format.length)}-${fingerprint}${format}`;
    first = false;
    if (format === '.avro') writeFileSync(file, encodeContainer(s.schema, s.datums, { codec: 'deflate' }));
    else await writeParquet(file, s.schema, s.records);
    onSaved(file, s.count);
  }
}
