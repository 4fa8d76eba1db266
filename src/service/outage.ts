// How a service rides out Kafka being away: a backoff between attempts, one warning per outage
// (none for a transaction coordinator that settles quickly), one line when Kafka is back.
import { kafkaBackoff } from '../backoff.ts';
import type { Logger } from '../log.ts';

/**
 * A coordinator still being elected or loading (a new cluster, a restart) is no outage unless it
 * lasts this long.
 */
const SETTLING_GRACE_MS = 10_000;

export interface OutageWords {
  /** What is away, as the log lines name it: 'Kafka' (the distribution's cluster), 'upstream'. */
  subject: string;
  /** The error as the warning shows it. */
  describe: (err: unknown) => string;
}

const KAFKA: OutageWords = { subject: 'Kafka', describe: (err) => (err as Error).message };

export class Outage {
  readonly #log: Logger;
  readonly #words: OutageWords;
  readonly #backoff = kafkaBackoff();
  #since: number | undefined;
  #warned = false;

  constructor(log: Logger, words: OutageWords = KAFKA) {
    this.#log = log;
    this.#words = words;
  }

  /**
   * A failed attempt; returns how long to wait before the next one. `answered`: a broker answered
   * with an error, so Kafka is not away, but the transaction in flight is lost: said each time.
   */
  failed(err: unknown, kind: 'settling' | 'answered' | 'unreachable', ids: readonly string[], servers: readonly string[]): number {
    this.#since ??= Date.now();
    const fields = { servers: servers.join(','), error: this.#words.describe(err), ids: [...new Set(ids)].join(',') || undefined };
    if (kind === 'answered') {
      this.#log('warn', `${this.#words.subject} failed the transaction in flight: it is aborted and its batch sent again, nothing is lost`, fields);
    } else if (!this.#warned && (kind === 'unreachable' || Date.now() - this.#since > SETTLING_GRACE_MS)) {
      this.#warned = true;
      this.#log('warn', `${this.#words.subject} unavailable: retrying with backoff, nothing is lost`, fields);
    }
    return this.#backoff.next();
  }

  /** A successful attempt: the outage, if any, is over. */
  recovered(): void {
    if (this.#since === undefined) return;
    if (this.#warned) this.#log('info', `${this.#words.subject} is back`, { after_s: ((Date.now() - this.#since) / 1000).toFixed(1) });
    this.#since = undefined;
    this.#warned = false;
    this.#backoff.reset();
  }
}
