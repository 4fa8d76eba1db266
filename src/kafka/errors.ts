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
