// Errors of @platformatic/kafka, which nests the broker's answers (each with an apiId such as
// PRODUCER_FENCED) inside aggregate errors and causes: one walker over that nesting, the questions
// asked of it, and one classifier that tells a caller what a failed Kafka call means.
import { FinkError } from '../errors.ts';

/** How deep the walker looks below the error it is given (the client nests four levels at most). */
const MAX_DEPTH = 5;

/**
 * Visits `err` and every error nested in it (an aggregate's `errors`, a `cause`), parents first,
 * each object once (a cycle ends there), down to `maxDepth` levels below `err`.
 */
export function walkErrors(err: unknown, visit: (e: object, depth: number) => void, maxDepth = MAX_DEPTH): void {
  const seen = new Set<object>();
  const walk = (e: unknown, depth: number): void => {
    if (depth > maxDepth || e === null || typeof e !== 'object' || seen.has(e)) return;
    seen.add(e);
    visit(e, depth);
    for (const inner of nested(e)) walk(inner, depth + 1);
  };
  walk(err, 0);
}

/** The errors directly inside `e`: an aggregate's, then its cause. */
function nested(e: object): unknown[] {
  const { errors, cause } = e as { errors?: unknown; cause?: unknown };
  return [...(Array.isArray(errors) ? (errors as unknown[]) : []), ...(cause === undefined ? [] : [cause])];
}

/** The error identifiers (apiId) inside a @platformatic/kafka error, for matching. */
export function errorIds(err: unknown): string[] {
  const out: string[] = [];
  walkErrors(err, (e) => {
    const { apiId } = e as { apiId?: unknown };
    if (typeof apiId === 'string') out.push(apiId);
  });
  return out;
}

/**
 * The innermost messages of an error: the network's own words, such as ECONNREFUSED. An error
 * that is nothing but a cycle of causes has no innermost one: its own message stands for it.
 */
export function rootCauses(err: unknown): string[] {
  const out = new Set<string>();
  walkErrors(err, (e, depth) => {
    const { message } = e as { message?: unknown };
    if (typeof message === 'string' && (depth === MAX_DEPTH || nested(e).length === 0)) out.add(message);
  });
  const own = (err as { message?: unknown } | null | undefined)?.message;
  return out.size === 0 && typeof own === 'string' ? [own] : [...out];
}

const CLIENT_PREFIX = 'PLT_KFK_';

function clientCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith(CLIENT_PREFIX) ? code : undefined;
}

/** An error of the Kafka client (network, broker answers, its own refusals), as opposed to anything else. */
function isClientError(err: unknown): boolean {
  return clientCode(err) !== undefined;
}

/** The client's error codes (PLT_KFK_*) anywhere inside an error. */
export function clientCodes(err: unknown): string[] {
  const out: string[] = [];
  walkErrors(err, (e) => {
    const code = clientCode(e);
    if (code !== undefined) out.push(code);
  });
  return out;
}

/**
 * Whether a client error is Kafka not answering at all: no broker's error id anywhere in it, and
 * no refusal of the client's own (PLT_KFK_USER: an unknown topic, a misuse).
 */
export function isUnreachable(err: unknown): boolean {
  const codes = clientCodes(err);
  return codes.length > 0 && !codes.includes('PLT_KFK_USER') && errorIds(err).length === 0;
}

/**
 * Whether the client says a topic does not exist: the broker's answer (UNKNOWN_TOPIC_*), or the
 * client's own check of its metadata. That check replaces the broker's answer with a UserError
 * `Unknown topic <name>.` that carries no cause and no property of its own
 * (@platformatic/kafka 2.12, clients/base/base.js), so its text is the only thing to match.
 */
export function isUnknownTopic(err: unknown): boolean {
  if (errorIds(err).some((id) => id.startsWith('UNKNOWN_TOPIC'))) return true;
  let found = false;
  walkErrors(err, (e) => {
    const { message } = e as { message?: unknown };
    found ||= clientCode(e) === 'PLT_KFK_USER' && typeof message === 'string' && /^Unknown topic /.test(message);
  });
  return found;
}

/** The one line for a Kafka that does not answer: which one, where it was asked, why, and what to do. */
export function unreachableMessage(servers: readonly string[], err: unknown, { who = 'Kafka', advice = "start it with 'npx fink_kafka start', or set DISTRIBUTION_SERVERS to a running cluster" } = {}): string {
  return `${who} does not answer at ${servers.join(',')} (${rootCauses(err).join('; ')}): ${advice}`;
}

/** The same line as an error of its own code, for a command that stops on it. */
export function unreachableError(servers: readonly string[], err: unknown, words: { who?: string; advice?: string } = {}): FinkError {
  return new FinkError(unreachableMessage(servers, err, words), { code: 'FINK_KAFKA_UNREACHABLE' });
}

/**
 * Answers of a transaction coordinator that is being elected, is loading its log (a new or
 * restarted cluster), or is still writing the markers of the previous transaction: answers that
 * pass on their own, to be waited out.
 */
const COORDINATOR_SETTLING: ReadonlySet<string> = new Set(['NOT_COORDINATOR', 'COORDINATOR_NOT_AVAILABLE', 'COORDINATOR_LOAD_IN_PROGRESS', 'CONCURRENT_TRANSACTIONS']);

/** True when every broker answer inside the error says the coordinator is settling. */
export function isCoordinatorSettling(err: unknown): boolean {
  const ids = errorIds(err);
  return ids.length > 0 && ids.every((id) => COORDINATOR_SETTLING.has(id));
}

/**
 * What a failed Kafka call means for the caller:
 * - `authentication`: the broker refused the credentials (SASL), or the client refused the
 *   broker's side of the handshake;
 * - `fenced`: a newer producer took the transactional id (stop);
 * - `unauthorized`: the user lacks a right (stop);
 * - `settling`: a transaction coordinator being elected or loading (retry without alarm);
 * - `answered`: a broker answered with another error (the transaction is lost, start over);
 * - `unreachable`: network, timeouts, a broker away (retry with backoff);
 * - `refused`: the client refused the call itself, no broker answering (an unknown topic, a misuse).
 * Undefined: not an error of the Kafka client at all.
 */
export type KafkaFailure = 'authentication' | 'fenced' | 'unauthorized' | 'settling' | 'answered' | 'unreachable' | 'refused';

const FENCED = new Set(['PRODUCER_FENCED', 'INVALID_PRODUCER_EPOCH', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED']);

export function classifyKafkaError(err: unknown): KafkaFailure | undefined {
  if (!isClientError(err)) return undefined;
  const ids = errorIds(err);
  const codes = clientCodes(err);
  if (codes.includes('PLT_KFK_AUTHENTICATION') || ids.includes('SASL_AUTHENTICATION_FAILED')) return 'authentication';
  if (ids.some((id) => FENCED.has(id))) return 'fenced';
  if (ids.some((id) => id.endsWith('AUTHORIZATION_FAILED'))) return 'unauthorized';
  if (ids.length > 0 && ids.every((id) => COORDINATOR_SETTLING.has(id))) return 'settling';
  if (ids.length > 0) return 'answered';
  return codes.includes('PLT_KFK_USER') ? 'refused' : 'unreachable';
}

/** node:tls's codes for a broker certificate that the client does not trust or that names another host. */
const UNTRUSTED = new Set(['SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_GET_ISSUER_CERT', 'CERT_SIGNATURE_FAILURE', 'CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID']);

/**
 * What to check when a connection failed because the broker's TLS certificate was not trusted (the
 * CA file of `prefix`); undefined for any other failure.
 */
export function tlsFailureHint(err: unknown, prefix: 'KAFKA' | 'UPSTREAM'): string | undefined {
  let hint: string | undefined;
  walkErrors(err, (e) => {
    const { code } = e as { code?: unknown };
    if (typeof code === 'string' && UNTRUSTED.has(code)) {
      hint ??= `the broker's TLS certificate is not trusted (${code}): ${prefix}_SSL_CA_FILE must be the certificate authority that signed it ('fink_kafka status' prints a managed cluster's), and the certificate must name the host connected to`;
    }
  });
  return hint;
}
