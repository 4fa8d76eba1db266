// Real alerts in the Confluent wire format (issue 24), both ways: turned Confluent as the
// distribution's `confluent` mode puts them on a topic (each writer schema registered under
// `<topic>-value` in a real registry, the value the byte 0, the schema id, the datum; the key the
// object id as text), and read back: each message's schema fetched by its id (once per id), its
// datum decoded with it.
import { decodeConfluent, encodeConfluent } from '../../src/avro/confluent-wire.ts';
import { parseAvroType, type AvroType, type RecordSchema } from '../../src/avro/schema.ts';
import { fetchSchemaById, registerSchema } from '../../src/avro/schema-registry.ts';
import type { ConsumedMessage } from '../../src/kafka/topic-reader.ts';
import type { WireMessage } from './wire.ts';

/** The object id of a decoded alert: ZTF's objectId, Rubin's diaObjectId (its diaSourceId when it has none). */
function objectIdOf(record: Record<string, unknown>): string {
  if (typeof record.objectId === 'string') return record.objectId;
  const source = record.diaSource as { diaObjectId?: bigint | null } | undefined;
  return String(source?.diaObjectId ?? record.diaSourceId);
}

/** The same alerts as fink messages (key: schema, value: datum) turned Confluent, with the ids their schemas got. */
export async function toConfluent(registryUrl: string, topic: string, messages: readonly WireMessage[]): Promise<{ messages: WireMessage[]; ids: Map<string, number> }> {
  const ids = new Map<string, number>();
  const out: WireMessage[] = [];
  for (const m of messages) {
    const text = m.key.toString();
    let id = ids.get(text);
    if (id === undefined) ids.set(text, (id = await registerSchema(registryUrl, `${topic}-value`, text)));
    const record = parseAvroType(JSON.parse(text) as RecordSchema).fromBuffer(m.value) as Record<string, unknown>;
    out.push({ key: Buffer.from(objectIdOf(record)), value: encodeConfluent(id, m.value) });
  }
  return { messages: out, ids };
}

/** `a[0], b[0], a[1], b[1], ...`: both formats side by side on one partition. */
export function interleave<T>(a: readonly T[], b: readonly T[]): T[] {
  return a.flatMap((x, i) => (i < b.length ? [x, b[i]!] : [x]));
}

export interface ConfluentDecoded {
  schemaId: number;
  datum: Buffer;
  value: Record<string, unknown>;
  schema: RecordSchema;
}

/** A test's decoder of confluent messages: schemas fetched once by id from the registry. */
export function confluentDecoder(registryUrl: string): (m: ConsumedMessage) => Promise<ConfluentDecoded> {
  const types = new Map<number, Promise<{ type: AvroType; schema: RecordSchema }>>();
  return async (m) => {
    const { schemaId, datum } = decodeConfluent(m.value!);
    let known = types.get(schemaId);
    if (known === undefined) {
      known = fetchSchemaById(registryUrl, schemaId).then((text) => ({ type: parseAvroType(JSON.parse(text)), schema: JSON.parse(text) as RecordSchema }));
      types.set(schemaId, known);
    }
    const { type, schema } = await known;
    return { schemaId, datum, value: type.fromBuffer(datum) as Record<string, unknown>, schema };
  };
}
