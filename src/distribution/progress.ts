// A progress line every few seconds, computed from the metrics since the last line.
import type { Logger } from '../log.ts';
import type { Metrics } from './metrics.ts';

export class Progress {
  readonly #metrics: Metrics;
  readonly #everyMs: number;
  readonly #log: Logger;
  #at = performance.now();
  #alerts: number;
  #bytes: number;

  constructor(metrics: Metrics, everySeconds: number, log: Logger) {
    this.#metrics = metrics;
    this.#everyMs = everySeconds * 1000;
    this.#log = log;
    this.#alerts = metrics.alerts;
    this.#bytes = metrics.totalBytes();
  }

  /** Logs a line if one is due; `lag` is asked only then (it costs a query). */
  tick(lag: () => number): void {
    const now = performance.now();
    if (now - this.#at < this.#everyMs) return;
    this.#metrics.lag = lag();
    const seconds = (now - this.#at) / 1000;
    const alerts = this.#metrics.alerts;
    const bytes = this.#metrics.totalBytes();
    this.#log('info', 'progress', { alerts, alerts_per_s: ((alerts - this.#alerts) / seconds).toFixed(0), mb_per_s: ((bytes - this.#bytes) / seconds / 1e6).toFixed(1), lag: this.#metrics.lag });
    this.#at = now;
    this.#alerts = alerts;
    this.#bytes = bytes;
  }
}
