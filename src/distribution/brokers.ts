// The brokers of the cluster as the service sees them, looked at every few seconds, so that the log
// says when one leaves or comes back even when the client rides over it without an error.
import type { Logger } from '../log.ts';

/** How often the service asks the cluster which brokers it lists. */
export const BROKER_WATCH_MS = 5_000;

export class BrokerWatch {
  readonly #log: Logger;
  readonly #list: () => Promise<number[]>;
  #known: Set<number> | undefined;
  #at = 0;

  /** `list`: the brokers the cluster lists now. */
  constructor(list: () => Promise<number[]>, log: Logger) {
    this.#list = list;
    this.#log = log;
  }

  /** Looks again if it is time; a change is logged. A failed look is left to the next batch to find. */
  async tick(): Promise<void> {
    if (Date.now() - this.#at < BROKER_WATCH_MS) return;
    this.#at = Date.now();
    const now = new Set(await this.#list().catch(() => [...(this.#known ?? [])]));
    if (this.#known !== undefined) {
      const left = [...this.#known].filter((b) => !now.has(b));
      const joined = [...now].filter((b) => !this.#known!.has(b));
      if (left.length > 0) this.#log('warn', 'broker left the cluster: its partitions move to the others, nothing is lost', { nodes: left.join(','), brokers: now.size });
      if (joined.length > 0) this.#log('info', 'broker joined the cluster', { nodes: joined.join(','), brokers: now.size });
    }
    this.#known = now;
  }
}
