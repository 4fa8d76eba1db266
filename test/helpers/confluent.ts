// Reading back what the distribution wrote in the Confluent wire format: each message's schema
// fetched by its id from the registry (once per id), its datum decoded with it.
import { decodeConfluent } from '../../src/avro/confluent-wire.ts';
import { parseAvroType, type AvroType, type RecordSchema } from '../../src/avro/schema.ts';
import { fetchSchemaById } from '../../src/avro/schema-registry.ts';
import type { ConsumedMessage } from '../../src/kafka/topic-reader.ts';

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
