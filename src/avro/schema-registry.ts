// A client of a Confluent-compatible schema registry (its REST API: Confluent's own, or Apicurio's
// /apis/ccompat/v7): register a writer schema under a subject, fetch a schema's text by its id.
// The text is kept exactly as the registry returns it: a registry may match schemas by their text.
// Every call is bounded: a timeout, a cap on the answer's size (a schema is a few KB; an answer of
// MiBs is not one), and the caller's stop signal. Credentials in the URL (https://user:pass@host)
// go in an Authorization header and never into a message: fetch refuses them in a URL, and a
// message may end up in a log or a dead letter.
import { FinkError } from '../errors.ts';

export class RegistryError extends FinkError {
  /** The HTTP status, when the registry answered (undefined: it could not be reached, or timed out). */
  readonly status: number | undefined;
  /** Confluent's error_code in the answer's body (40403: no schema of that id), when there is one. */
  readonly errorCode: number | undefined;
  constructor(message: string, status?: number, errorCode?: number) {
    super(message, { code: 'FINK_SCHEMA_REGISTRY' });
    this.name = 'RegistryError';
    this.status = status;
    this.errorCode = errorCode;
  }
}

/** Confluent's error_code for a schema id that the registry does not have. */
export const SCHEMA_NOT_FOUND = 40403;

export interface RegistryCallOptions {
  /** Ends the call (the run is stopping). */
  signal?: AbortSignal;
  timeoutMs?: number;
  /** The largest answer read, in bytes. */
  maxBytes?: number;
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';
const TIMEOUT_MS = 30_000;
const MAX_BYTES = 4 << 20;

/** `url` with any user and password replaced by `***`: what logs and messages show. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#@]*@/i, '$1***@');
}

/** The URL without its credentials, and the Authorization header they make (if any). */
function target(url: string): { href: string; headers: Record<string, string> } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RegistryError(`the schema registry URL ${redactUrl(url)} is not a URL`);
  }
  if (parsed.username === '' && parsed.password === '') return { href: url, headers: {} };
  const user = decodeURIComponent(parsed.username);
  const password = decodeURIComponent(parsed.password);
  parsed.username = '';
  parsed.password = '';
  return { href: parsed.href, headers: { Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` } };
}

/** The answer's body as text, refused past `maxBytes` without reading the rest. */
async function boundedText(response: Response, maxBytes: number, what: string): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw new RegistryError(`${what}: the schema registry's answer is ${declared} bytes, over the cap of ${maxBytes}`, response.status);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (response.body === null) return '';
  for await (const chunk of response.body) {
    size += chunk.length;
    if (size > maxBytes) throw new RegistryError(`${what}: the schema registry's answer goes over the cap of ${maxBytes} bytes`, response.status);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function errorCodeOf(text: string): number | undefined {
  try {
    const code = (JSON.parse(text) as { error_code?: unknown }).error_code;
    return typeof code === 'number' ? code : undefined;
  } catch {
    return undefined;
  }
}

async function call(url: string, init: RequestInit, what: string, options: RegistryCallOptions = {}): Promise<unknown> {
  const { href, headers } = target(url);
  const timeoutMs = options.timeoutMs ?? TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout]);
  const shown = redactUrl(url);
  let text: string;
  let response: Response;
  try {
    response = await fetch(href, { ...init, signal, headers: { Accept: CONTENT_TYPE, 'Content-Type': CONTENT_TYPE, ...headers } });
    text = await boundedText(response, options.maxBytes ?? MAX_BYTES, what);
  } catch (error) {
    if (error instanceof RegistryError) throw error;
    if (options.signal?.aborted === true) throw new RegistryError(`${what}: stopped while asking the schema registry at ${shown}`);
    if (timeout.aborted) throw new RegistryError(`${what}: the schema registry at ${shown} did not answer within ${timeoutMs / 1000} s`);
    throw new RegistryError(`${what}: the schema registry at ${shown} cannot be reached (${redactUrl(String((error as Error).cause ?? (error as Error).message))})`);
  }
  if (!response.ok) throw new RegistryError(`${what}: the schema registry answered ${response.status} (${text.slice(0, 200)})`, response.status, errorCodeOf(text));
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
export async function registerSchema(registryUrl: string, subject: string, schemaText: string, options: RegistryCallOptions = {}): Promise<number> {
  const body = await call(`${base(registryUrl)}/subjects/${encodeURIComponent(subject)}/versions`, { method: 'POST', body: JSON.stringify({ schema: schemaText }) }, `registering a schema under subject ${subject}`, options);
  const id = (body as { id?: unknown }).id;
  if (typeof id !== 'number') throw new RegistryError(`registering a schema under subject ${subject}: the answer has no id (${JSON.stringify(body).slice(0, 200)})`);
  return id;
}

/** The text of the schema with id `id`. */
export async function fetchSchemaById(registryUrl: string, id: number, options: RegistryCallOptions = {}): Promise<string> {
  const body = await call(`${base(registryUrl)}/schemas/ids/${id}`, { method: 'GET' }, `fetching schema id ${id}`, options);
  const schema = (body as { schema?: unknown } | null)?.schema;
  if (typeof schema !== 'string') throw new RegistryError(`fetching schema id ${id}: the answer has no schema (${JSON.stringify(body).slice(0, 200)})`);
  return schema;
}

/**
 * Asks the registry for its subjects, a cheap call any Confluent-compatible registry answers with
 * a JSON array: throws RegistryError saying what the URL gave instead (no answer, an error, not a
 * registry).
 */
export async function probeRegistry(registryUrl: string, options: RegistryCallOptions = {}): Promise<void> {
  const what = `probing the schema registry at ${redactUrl(base(registryUrl))}`;
  const body = await call(`${base(registryUrl)}/subjects`, { method: 'GET' }, what, options);
  if (!Array.isArray(body)) throw new RegistryError(`${what}: GET /subjects answered ${JSON.stringify(body).slice(0, 200)}, not a list of subjects: is this a schema registry's URL?`);
}

/** Confluent's error_code for a subject that the registry does not have. */
export const SUBJECT_NOT_FOUND = 40401;

/** Whether `subject` has any version yet (a subject the registry does not know has none). */
export async function subjectExists(registryUrl: string, subject: string, options: RegistryCallOptions = {}): Promise<boolean> {
  try {
    const body = await call(`${base(registryUrl)}/subjects/${encodeURIComponent(subject)}/versions`, { method: 'GET' }, `listing the versions of subject ${subject}`, options);
    return Array.isArray(body) && body.length > 0;
  } catch (error) {
    if (error instanceof RegistryError && error.status === 404) return false;
    throw error;
  }
}

/** Sets the compatibility level (BACKWARD, NONE...) that the registry checks new versions of `subject` against. */
export async function setSubjectCompatibility(registryUrl: string, subject: string, level: string, options: RegistryCallOptions = {}): Promise<void> {
  await call(`${base(registryUrl)}/config/${encodeURIComponent(subject)}`, { method: 'PUT', body: JSON.stringify({ compatibility: level }) }, `setting compatibility ${level} on subject ${subject}`, options);
}

/** The text of the latest version of `subject` (undefined: the registry has no version of it). */
export async function latestSchema(registryUrl: string, subject: string, options: RegistryCallOptions = {}): Promise<string | undefined> {
  const what = `fetching the latest version of subject ${subject}`;
  let body: unknown;
  try {
    body = await call(`${base(registryUrl)}/subjects/${encodeURIComponent(subject)}/versions/latest`, { method: 'GET' }, what, options);
  } catch (error) {
    if (error instanceof RegistryError && error.status === 404) return undefined;
    throw error;
  }
  const schema = (body as { schema?: unknown } | null)?.schema;
  if (typeof schema !== 'string') throw new RegistryError(`${what}: the answer has no schema (${JSON.stringify(body).slice(0, 200)})`);
  return schema;
}

/** The compatibility level set on `subject` itself (undefined: none, the registry's global level applies). */
export async function subjectCompatibility(registryUrl: string, subject: string, options: RegistryCallOptions = {}): Promise<string | undefined> {
  const what = `reading the compatibility level of subject ${subject}`;
  let body: unknown;
  try {
    body = await call(`${base(registryUrl)}/config/${encodeURIComponent(subject)}`, { method: 'GET' }, what, options);
  } catch (error) {
    if (error instanceof RegistryError && error.status === 404) return undefined;
    throw error;
  }
  // Confluent answers compatibilityLevel; some registries and versions answer compatibility.
  const config = body as { compatibilityLevel?: unknown; compatibility?: unknown } | null;
  const level = config?.compatibilityLevel ?? config?.compatibility;
  return typeof level === 'string' ? level : undefined;
}

/** The id of `schemaText` if it is already a version of `subject` (undefined: it is not, or the subject does not exist). */
export async function registeredId(registryUrl: string, subject: string, schemaText: string, options: RegistryCallOptions = {}): Promise<number | undefined> {
  const what = `looking up a schema under subject ${subject}`;
  let body: unknown;
  try {
    body = await call(`${base(registryUrl)}/subjects/${encodeURIComponent(subject)}`, { method: 'POST', body: JSON.stringify({ schema: schemaText }) }, what, options);
  } catch (error) {
    if (error instanceof RegistryError && error.status === 404) return undefined;
    throw error;
  }
  const id = (body as { id?: unknown } | null)?.id;
  if (typeof id !== 'number') throw new RegistryError(`${what}: the answer has no id (${JSON.stringify(body).slice(0, 200)})`);
  return id;
}
