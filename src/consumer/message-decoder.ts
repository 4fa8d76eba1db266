// A message of either wire format decoded (docs/architecture.md, Reading both formats). The rule
// reads the key's first byte past JSON's whitespace and the value's first: a key starting with `{`
// is a fink message (its key is the writer schema, a JSON object); otherwise a value of 5 bytes or
// more starting with the magic byte 0 is a Confluent one (its key, an object id or nothing, is not
// read); anything else is taken as fink, so that its error is the fink one it always was.
import { decodeConfluent } from '../avro/confluent-wire.ts';
import { RegistrySchemaError, type RegistrySchema, RegistrySchemas } from './registry-schemas.ts';
import { decodeDatum, DecodeError, SchemaFileDecoder, type DecodedSchema } from './schema-file-decoder.ts';

export type WireFormat = 'fink' | 'confluent';

export interface DecodedMessage {
  format: WireFormat;
  schema: DecodedSchema;
  record: Record<string, unknown>;
  /** The Avro datum alone (a view into the value: a Confluent value without its 5-byte header). */
  datum: Buffer;
  /** The registry id of a Confluent message's schema. */
  schemaId?: number;
}

const OPEN_BRACE = 0x7b;

function isJsonSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d;
}

/** Which format a message is in, by the rule of this file's header. */
export function formatOf(key: Uint8Array | null, value: Uint8Array | null): WireFormat {
  if (key !== null) {
    let i = 0;
    while (i < key.length && isJsonSpace(key[i]!)) i++;
    if (key[i] === OPEN_BRACE) return 'fink';
  }
  return value !== null && value.length >= 5 && value[0] === 0 ? 'confluent' : 'fink';
}

export class MessageDecoder {
  readonly #files: SchemaFileDecoder;
  readonly #registry: RegistrySchemas;

  /** `schemaBase`: DISTRIBUTION_SCHEMA (the fink messages' schema files); `registry`: DISTRIBUTION_SCHEMA_REGISTRY, if set. */
  constructor(schemaBase: string, registry: string | RegistrySchemas | undefined = undefined) {
    this.#files = new SchemaFileDecoder(schemaBase);
    this.#registry = registry instanceof RegistrySchemas ? registry : new RegistrySchemas(registry);
  }

  /** Decodes a message of either format, asking the registry for a Confluent schema id not yet known; throws DecodeError only. */
  async decode(key: Buffer | null, value: Buffer | null, where: string): Promise<DecodedMessage> {
    if (formatOf(key, value) === 'fink') return this.#fink(key, value, where);
    const { schemaId, datum } = decodeConfluent(value!);
    let schema: RegistrySchema;
    try {
      schema = await this.#registry.get(schemaId);
    } catch (err) {
      throw failure(err, where);
    }
    return confluent(schema, datum, where);
  }

  /**
   * The same without waiting: undefined while a Confluent message's schema id is being asked of
   * the registry (the ask started here), for a caller on a beat that takes the message again later.
   */
  decodeNow(key: Buffer | null, value: Buffer | null, where: string): DecodedMessage | undefined {
    if (formatOf(key, value) === 'fink') return this.#fink(key, value, where);
    const { schemaId, datum } = decodeConfluent(value!);
    let schema: RegistrySchema | undefined;
    try {
      schema = this.#registry.peek(schemaId);
    } catch (err) {
      throw failure(err, where);
    }
    return schema === undefined ? undefined : confluent(schema, datum, where);
  }

  #fink(key: Buffer | null, value: Buffer | null, where: string): DecodedMessage {
    const { schema, record } = this.#files.decode(key, value, where);
    return { format: 'fink', schema, record, datum: value! };
  }
}

function failure(err: unknown, where: string): unknown {
  return err instanceof RegistrySchemaError ? new DecodeError(`${where}: ${err.message}`) : err;
}

function confluent(registered: RegistrySchema, datum: Buffer, where: string): DecodedMessage {
  const { id, fingerprint, schema: recordSchema, type } = registered;
  const schema: DecodedSchema = { fingerprint, source: `schema id ${id} of the registry`, schema: recordSchema, type };
  // Its errors name the id through the schema's source ("... with schema id N of the registry").
  return { format: 'confluent', schema, record: decodeDatum(schema, datum, where), datum, schemaId: id };
}
