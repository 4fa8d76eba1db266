// A client of a Confluent-compatible schema registry (its REST API: Confluent's own, or Apicurio's
// /apis/ccompat/v7): register a writer schema under a subject, fetch a schema's text by its id.
// The text is kept exactly as the registry returns it: a registry may match schemas by their text.
import { FinkError } from '../errors.ts';

export class RegistryError extends FinkError {
  /** The HTTP status, when the registry answered (undefined: it could not be reached). */
  readonly status: number | undefined;
  constructor(message: string, status?: number) {
    super(message, { code: 'FINK_SCHEMA_REGISTRY' });
    this.name = 'RegistryError';
    this.status = status;
  }
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

async function call(url: string, init: RequestInit, what: string): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, headers: { Accept: CONTENT_TYPE, 'Content-Type': CONTENT_TYPE } });
  } catch (error) {
    throw new RegistryError(`${what}: the schema registry at ${url} cannot be reached (${(error as Error).cause ?? (error as Error).message})`);
  }
  const text = await response.text();
  if (!response.ok) throw new RegistryError(`${what}: the schema registry answered ${response.status} (${text.slice(0, 200)})`, response.status);
  try {
    return JSON.parse(text);
  } catch {
    throw new RegistryError(`${what}: the schema registry answered something that is not JSON (${text.slice(0, 200)})`, response.status);
  }
}

function base(registryUrl: string): string {
  return registryUrl.replace(/\/+$/, '');
}

/** Registers `schemaText` (an Avro schema as JSON) under `subject`; its id, new or existing. */
export async function registerSchema(registryUrl: string, subject: string, schemaText: string): Promise<number> {
  const body = await call(`${base(registryUrl)}/subjects/${encodeURIComponent(subject)}/versions`, { method: 'POST', body: JSON.stringify({ schema: schemaText }) }, `registering a schema under subject ${subject}`);
  const id = (body as { id?: unknown }).id;
  if (typeof id !== 'number') throw new RegistryError(`registering a schema under subject ${subject}: the answer has no id (${JSON.stringify(body).slice(0, 200)})`);
  return id;
}

/** The text of the schema with id `id`. */
export async function fetchSchemaById(registryUrl: string, id: number): Promise<string> {
  const body = await call(`${base(registryUrl)}/schemas/ids/${id}`, { method: 'GET' }, `fetching schema id ${id}`);
  const schema = (body as { schema?: unknown }).schema;
  if (typeof schema !== 'string') throw new RegistryError(`fetching schema id ${id}: the answer has no schema (${JSON.stringify(body).slice(0, 200)})`);
  return schema;
}
