// How the service rides out Kafka being away: a backoff between attempts, one warning per outage
// (none for a transaction coordinator that settles quickly), one line when Kafka is back.
import type { Logger } from './log.ts';

/** The first wait after a failure; it doubles up to BACKOFF_MAX_MS. */
export const BACKOFF_FIRST_MS = 500;
export const BACKOFF_MAX_MS = 15_000;
/**
 * A coordinator still being elected or loading (a new cluster, a restart) is no outage unless it
 * lasts this long.
 */
export const SETTLING_GRACE_MS = 10_000;

export class Outage {
  readonly #log: Logger;
  #since: number | undefined;
  #warned = false;
  #backoff = BACKOFF_FIRST_MS;

  constructor(log: Logger) {
    this.#log = log;
  }

  /** A failed attempt; returns how long to wait before the next one. */
  failed(err: unknown, settling: boolean, ids: readonly string[]): number {
    this.#since ??= Date.now();
    if (!this.#warned && (!settling || Date.now() - this.#since > SETTLING_GRACE_MS)) {
      this.#warned = true;
      this.#log('warn', 'Kafka unavailable: retrying with backoff, nothing is lost', { error: (err as Error).message, ids: [...new Set(ids)].join(',') || undefined });
    }
    const wait = this.#backoff;
    this.#backoff = Math.min(this.#backoff * 2, BACKOFF_MAX_MS);
    return wait;
  }

  /** A successful attempt: the outage, if any, is over. */
  recovered(): void {
    if (this.#since === undefined) return;
    if (this.#warned) this.#log('info', 'Kafka is back', { after_s: ((Date.now() - this.#since) / 1000).toFixed(1) });
    this.#since = undefined;
    this.#warned = false;
    this.#backoff = BACKOFF_FIRST_MS;
  }
}
