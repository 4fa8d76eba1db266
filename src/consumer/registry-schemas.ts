// The writer schemas of Confluent wire-format messages, by their registry id: each id asked of the
// registry once, its text checked (JSON, a record, the shape bounds) and parsed, then kept. Ids come
// from messages, which anyone who may write the topic chooses: the ids kept are a bounded few, and a
// failure (an id the registry does not know, a text that is not an alert's schema, a registry away)
// is kept as well for a while, so that a topic full of one bad id costs one request, not one per
// message; every message with that id is still reported. Consumers keep no schema on disk: they
// have no state folder, and a run that reads the registry's topics needs it for new ids anyway.
import { checkSchemaShape, parseAvroType, sanitizeSchema, schemaFingerprint, type AvroType, type RecordSchema } from '../avro/schema.ts';
import { fetchSchemaById, redactUrl, RegistryError, SCHEMA_NOT_FOUND } from '../avro/schema-registry.ts';
import { FinkError } from '../errors.ts';
import { Lru } from '../lru.ts';

/** Why the schema of an id is not at hand; the caller adds which message asked. */
export class RegistrySchemaError extends FinkError {
  constructor(message: string) {
    super(message, { code: 'FINK_SCHEMA_REGISTRY' });
    this.name = 'RegistrySchemaError';
  }
}

export interface RegistrySchema {
  id: number;
  fingerprint: string;
  schema: RecordSchema;
  type: AvroType;
}

export interface RegistrySchemasOptions {
  /** One request's timeout (a reader waits for it: shorter than the services' 30 s). */
  timeoutMs?: number;
  /** How long an id that failed is answered with its error without asking again. */
  failureMs?: number;
  /** Shorter for a registry that could not be reached or failed: it may be back soon. */
  unavailableMs?: number;
}

type Entry =
  | { state: 'ok'; schema: RegistrySchema }
  | { state: 'asking'; promise: Promise<RegistrySchema> }
  | { state: 'failed'; error: RegistrySchemaError; until: number };

const IDS_KEPT = 256;

/** The registry's text for `id` as a schema a reader may decode with, or why not. */
function parseRegistryText(id: number, text: string): RegistrySchema {
  try {
    const schema: unknown = JSON.parse(text);
    if (typeof schema !== 'object' || schema === null || (schema as { type?: unknown }).type !== 'record') throw new Error('not a record schema');
    checkSchemaShape(schema);
    // Made valid as the schema files are (older ZTF defaults), which changes no encoded byte.
    const valid = sanitizeSchema(schema as RecordSchema);
    const type = parseAvroType(valid);
    return { id, fingerprint: schemaFingerprint(type), schema: valid, type };
  } catch (err) {
    throw new RegistrySchemaError(`schema id ${id}: the registry's text is not an alert's schema (${(err as Error).message})`);
  }
}

export class RegistrySchemas {
  readonly #url: string | undefined;
  readonly #options: RegistrySchemasOptions;
  readonly #entries = new Lru<number, Entry>(IDS_KEPT);

  /** `url` undefined: no registry is set, and every id is an error saying so. */
  constructor(url: string | undefined, options: RegistrySchemasOptions = {}) {
    this.#url = url;
    this.#options = options;
  }

  /** The schema of `id`, from memory or asked of the registry (one request at a time per id). */
  get(id: number): Promise<RegistrySchema> {
    const entry = this.#entry(id);
    if (entry.state === 'ok') return Promise.resolve(entry.schema);
    if (entry.state === 'failed') return Promise.reject(entry.error);
    return entry.promise;
  }

  /**
   * The schema of `id` if it is at hand; undefined while it is being asked (the ask started here
   * if it was not yet), so that a caller on a beat never waits; the error once the ask failed.
   */
  peek(id: number): RegistrySchema | undefined {
    const entry = this.#entry(id);
    if (entry.state === 'ok') return entry.schema;
    if (entry.state === 'failed') throw entry.error;
    return undefined;
  }

  #entry(id: number): Entry {
    const entry = this.#entries.get(id);
    if (entry !== undefined && (entry.state !== 'failed' || entry.until > Date.now())) return entry;
    const promise = this.#ask(id).then(
      (schema) => {
        this.#entries.set(id, { state: 'ok', schema });
        return schema;
      },
      (err: unknown) => {
        // A RegistryError already names the id ("fetching schema id N: ...").
        const error = err instanceof RegistrySchemaError ? err : new RegistrySchemaError(err instanceof RegistryError ? err.message : `schema id ${id}: ${(err as Error).message}`);
        const unavailable = err instanceof RegistryError;
        const forMs = unavailable ? (this.#options.unavailableMs ?? 5_000) : (this.#options.failureMs ?? 60_000);
        this.#entries.set(id, { state: 'failed', error, until: Date.now() + forMs });
        throw error;
      },
    );
    // Nobody may be awaiting it (peek): its failure is read from the entry, not left unhandled.
    promise.catch(() => {});
    const asking: Entry = { state: 'asking', promise };
    this.#entries.set(id, asking);
    return asking;
  }

  async #ask(id: number): Promise<RegistrySchema> {
    if (this.#url === undefined) throw new RegistrySchemaError(`schema id ${id}: the message is in the Confluent wire format and no DISTRIBUTION_SCHEMA_REGISTRY is set to resolve its schema id`);
    let text: string;
    try {
      text = await fetchSchemaById(this.#url, id, { timeoutMs: this.#options.timeoutMs ?? 10_000 });
    } catch (err) {
      if (!(err instanceof RegistryError)) throw err;
      if (err.status === 404 && err.errorCode === SCHEMA_NOT_FOUND) {
        throw new RegistrySchemaError(`schema id ${id} is unknown to the registry at ${redactUrl(this.#url)}`);
      }
      throw err;
    }
    return parseRegistryText(id, text);
  }
}
