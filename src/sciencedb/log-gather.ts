// The science log's writes gathered into fewer transactions. A transaction costs the log a few
// round trips to its coordinator and a marker on every partition it wrote, whatever it holds: a
// folder of one-alert files (as Fink distributes them) written a transaction each runs at a
// fraction of the embedded store's pace. So the alerts of consecutive writes go into one
// transaction up to a bound in bytes and alerts. Each write still goes in whole or not at all
// (a transaction holds whole writes); what changes is when: a write is in the log once a later
// write or `close` has flushed it, and an error of Kafka's comes from that call.
import type { AlertStore } from './alert-store.ts';
import type { ScienceLogWriter } from './log-writer.ts';
import { alertBytes, type NewAlert } from './store.ts';

export class GatheredWrites implements AlertStore {
  readonly #writer: ScienceLogWriter;
  readonly #maxBytes: number;
  readonly #maxAlerts: number;
  #pending: NewAlert[] = [];
  #bytes = 0;

  constructor(writer: ScienceLogWriter, maxBytes: number, maxAlerts = 5000) {
    this.#writer = writer;
    this.#maxBytes = maxBytes;
    this.#maxAlerts = maxAlerts;
  }

  /** Takes `alerts` into the next transaction, first writing what is gathered if they would pass the bound. */
  async write(alerts: readonly NewAlert[]): Promise<number> {
    const bytes = alertBytes(alerts);
    if (this.#bytes + bytes > this.#maxBytes || this.#pending.length + alerts.length > this.#maxAlerts) await this.flush();
    this.#pending.push(...alerts);
    this.#bytes += bytes;
    return alerts.length;
  }

  /** Writes what is gathered, in one transaction. */
  async flush(): Promise<void> {
    if (this.#pending.length === 0) return;
    const batch = this.#pending;
    this.#pending = [];
    this.#bytes = 0;
    await this.#writer.write(batch);
  }

  /** Flushes, then closes the writer (even if the flush failed: nothing of it is then visible). */
  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      await this.#writer.close();
    }
  }
}
