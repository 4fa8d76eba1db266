// A progress line every few seconds, its rates computed from the counts since the last line. Both
// services feed it: each says how to sample its counts and what else the line shows.
import type { Logger, LogFields } from '../log.ts';

export interface ProgressCounts {
  alerts: number;
  /** Bytes sent, for a service that counts them (the line then shows mb_per_s). */
  bytes?: number;
}

export class Progress {
  readonly #everyMs: number;
  readonly #log: Logger;
  readonly #sample: () => ProgressCounts;
  #at = performance.now();
  #last: ProgressCounts;

  constructor(everySeconds: number, log: Logger, sample: () => ProgressCounts) {
    this.#everyMs = everySeconds * 1000;
    this.#log = log;
    this.#sample = sample;
    this.#last = sample();
  }

  /** Logs a line if one is due; `more` (such as a lag that costs a query) is asked only then. */
  tick(more: () => LogFields = () => ({})): void {
    const now = performance.now();
    if (now - this.#at < this.#everyMs) return;
    const seconds = (now - this.#at) / 1000;
    const counts = this.#sample();
    const rates: LogFields = { alerts: counts.alerts, alerts_per_s: ((counts.alerts - this.#last.alerts) / seconds).toFixed(0) };
    if (counts.bytes !== undefined) rates.mb_per_s = ((counts.bytes - (this.#last.bytes ?? 0)) / seconds / 1e6).toFixed(1);
    this.#log('info', 'progress', { ...rates, ...more() });
    this.#at = now;
    this.#last = counts;
  }
}
