// How the service rides out Kafka being away: a backoff between attempts, one warning per outage
// (none for a transaction coordinator that settles quickly), one line when Kafka is back.
import type { Logger } from '../log.ts';

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

  /**
   * A failed attempt; returns how long to wait before the next one. `answered`: a broker answered
   * with an error, so Kafka is not away, but the transaction in flight is lost: said each time.
   */
  failed(err: unknown, kind: 'settling' | 'answered' | 'unreachable', ids: readonly string[], servers: readonly string[]): number {
    this.#since ??= Date.now();
    const fields = { servers: servers.join(','), error: (err as Error).message, ids: [...new Set(ids)].join(',') || undefined };
    if (kind === 'answered') {
      this.#log('warn', 'Kafka failed the transaction in flight: it is aborted and its batch sent again, nothing is lost', fields);
    } else if (!this.#warned && (kind === 'unreachable' || Date.now() - this.#since > SETTLING_GRACE_MS)) {
      this.#warned = true;
      this.#log('warn', 'Kafka unavailable: retrying with backoff, nothing is lost', fields);
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
