// Errors of @platformatic/kafka, which nests the broker's answers (each with an apiId such as
// PRODUCER_FENCED) inside aggregate errors and causes.

/** The error identifiers (apiId) inside a @platformatic/kafka error, for matching. */
export function errorIds(err: unknown): string[] {
  const out: string[] = [];
  const visit = (e: unknown, depth: number): void => {
    if (depth > 4 || e === null || typeof e !== 'object') return;
    const { apiId, errors, cause } = e as { apiId?: unknown; errors?: unknown; cause?: unknown };
    if (typeof apiId === 'string') out.push(apiId);
    if (Array.isArray(errors)) for (const x of errors) visit(x, depth + 1);
    visit(cause, depth + 1);
  };
  visit(err, 0);
  return out;
}

/** The innermost messages of an error: the network's own words, such as ECONNREFUSED. */
export function rootCauses(err: unknown, depth = 0): string[] {
  const { errors, cause, message } = (err ?? {}) as { errors?: unknown[]; cause?: unknown; message?: string };
  const inner = [...(Array.isArray(errors) ? errors : []), ...(cause === undefined ? [] : [cause])];
  if (inner.length === 0 || depth > 5) return message === undefined ? [] : [message];
  return [...new Set(inner.flatMap((e) => rootCauses(e, depth + 1)))];
}

/** An error of the Kafka client (network, broker answers, its own refusals), as opposed to anything else. */
export function isClientError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('PLT_KFK_');
}

/** The client's error codes (PLT_KFK_*) anywhere inside an error. */
function clientCodes(err: unknown, depth = 0): string[] {
  if (depth > 5 || err === null || typeof err !== 'object') return [];
  const { code, errors, cause } = err as { code?: unknown; errors?: unknown; cause?: unknown };
  const own = typeof code === 'string' && code.startsWith('PLT_KFK_') ? [code] : [];
  return [...own, ...(Array.isArray(errors) ? errors : []).flatMap((e) => clientCodes(e, depth + 1)), ...clientCodes(cause, depth + 1)];
}

/**
 * Whether a client error is Kafka not answering at all: no broker's error id anywhere in it, and
 * no refusal of the client's own (PLT_KFK_USER: an unknown topic, a misuse).
 */
export function isUnreachable(err: unknown): boolean {
  const codes = clientCodes(err);
  return codes.length > 0 && !codes.includes('PLT_KFK_USER') && errorIds(err).length === 0;
}

/** Whether the client says a topic does not exist (its own check or the broker's answer). */
export function isUnknownTopic(err: unknown): boolean {
  return errorIds(err).some((id) => id.startsWith('UNKNOWN_TOPIC')) || rootCauses(err).some((m) => /^Unknown topic /.test(m));
}

/** The one line for a Kafka that does not answer: where it was asked, why, and what to do. */
export function unreachableMessage(servers: readonly string[], err: unknown): string {
  return `Kafka does not answer at ${servers.join(',')} (${rootCauses(err).join('; ')}): start it with 'npx fink_kafka start', or set DISTRIBUTION_SERVERS to a running cluster`;
}

/**
 * Answers of a transaction coordinator that is being elected, is loading its log (a new or
 * restarted cluster), or is still writing the markers of the previous transaction: answers that
 * pass on their own, to be waited out.
 */
export const COORDINATOR_SETTLING: ReadonlySet<string> = new Set(['NOT_COORDINATOR', 'COORDINATOR_NOT_AVAILABLE', 'COORDINATOR_LOAD_IN_PROGRESS', 'CONCURRENT_TRANSACTIONS']);

/** True when every broker answer inside the error says the coordinator is settling. */
export function isCoordinatorSettling(err: unknown): boolean {
  const ids = errorIds(err);
  return ids.length > 0 && ids.every((id) => COORDINATOR_SETTLING.has(id));
}
