// One message of a topic, as `fink start distribution_test` shows it: decoded (with its schema file,
// or its schema id through the registry) and made into a table row, or a DecodeError naming its
// partition and offset. Whatever a message holds, nothing else comes out of here, so the reader can
// report it and go on.
import { AlertError } from '../alert/fields.ts';
import type { DecodedMessage, MessageDecoder, WireFormat } from './message-decoder.ts';
import { DecodeError, type DecodedSchema, type SchemaFileDecoder } from './schema-file-decoder.ts';
import { surveyOf, tableRow, type Survey } from './table.ts';

export interface TopicMessage {
  partition: number;
  offset: bigint;
  key: Buffer | null;
  value: Buffer | null;
}

export interface ShownMessage {
  schema: DecodedSchema;
  record: Record<string, unknown>;
  survey: Survey;
  row: string;
  format: WireFormat;
  /** The Avro datum alone (a Confluent value without its header). */
  datum: Buffer;
}

/** `topic/partition@offset`, as the messages of this command have always named a message. */
export function messageWhere(topic: string, message: TopicMessage): string {
  return `${topic}/${message.partition}@${message.offset}`;
}

/** Decodes a fink message with its schema file and makes its table row; throws DecodeError only. */
export function showMessage(decoder: SchemaFileDecoder, topic: string, message: TopicMessage): ShownMessage {
  const where = messageWhere(topic, message);
  const { schema, record } = decoder.decode(message.key, message.value, where);
  return shown({ format: 'fink', schema, record, datum: message.value! }, where);
}

/** Decodes a message of either format (the registry asked for a new schema id) and makes its table row; throws DecodeError only. */
export async function showAnyMessage(decoder: MessageDecoder, topic: string, message: TopicMessage): Promise<ShownMessage> {
  const where = messageWhere(topic, message);
  return shown(await decoder.decode(message.key, message.value, where), where);
}

function shown({ format, schema, record, datum }: DecodedMessage, where: string): ShownMessage {
  try {
    const survey = surveyOf(schema.schema);
    return { schema, record, survey, row: tableRow(survey, record), format, datum };
  } catch (err) {
    if (err instanceof AlertError) throw new DecodeError(`${where}: ${err.message}`);
    throw err;
  }
}
