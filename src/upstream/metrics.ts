// Counters of stream2science, rendered for the Prometheus endpoint (src/metrics-endpoint.ts) that
// serves them when UPSTREAM_METRICS_PORT is set: the same scheme as the distribution's.
import { renderFamily } from '../metrics-endpoint.ts';

export class Stream2ScienceMetrics {
  /** Upstream messages handled (stored or dead letters), per topic. */
  readonly messages = new Map<string, number>();
  /** Alerts newly stored in the science database. */
  alerts = 0;
  /** Alerts that were already stored (the uniqueness guard: none in normal operation). */
  duplicates = 0;
  deadLetters = 0;
  transactions = 0;
  /** Messages behind the upstream high watermark, per partition (`topic\0partition`). */
  readonly lag = new Map<string, { topic: string; partition: number; messages: number }>();
  readonly errors = new Map<string, number>();

  countMessages(topic: string, count = 1): void {
    this.messages.set(topic, (this.messages.get(topic) ?? 0) + count);
  }

  totalMessages(): number {
    let sum = 0;
    for (const n of this.messages.values()) sum += n;
    return sum;
  }

  countError(kind: string): void {
    this.errors.set(kind, (this.errors.get(kind) ?? 0) + 1);
  }

  setLag(topic: string, partition: number, messages: number): void {
    this.lag.set(`${topic}\u0000${partition}`, { topic, partition, messages });
  }

  /** Only these partitions' lag (by `topic\0partition`) kept: the others went to another instance (shared mode). */
  keepLag(held: ReadonlySet<string>): void {
    for (const key of [...this.lag.keys()]) if (!held.has(key)) this.lag.delete(key);
  }

  totalLag(): number {
    let sum = 0;
    for (const l of this.lag.values()) sum += l.messages;
    return sum;
  }

  render(): string {
    const lines: string[] = [];
    renderFamily(lines, 'fink_stream2science_messages_total', 'counter', 'Upstream messages handled (stored or dead letters), per topic.', [...this.messages].map(([t, v]) => [`{topic="${t}"}`, v]));
    renderFamily(lines, 'fink_stream2science_alerts_total', 'counter', 'Alerts newly stored in the science database.', [['', this.alerts]]);
    renderFamily(lines, 'fink_stream2science_duplicates_total', 'counter', 'Alerts already stored when they came again (kept once by their id).', [['', this.duplicates]]);
    renderFamily(lines, 'fink_stream2science_dead_letters_total', 'counter', 'Messages that did not decode, recorded in the dead-letter file.', [['', this.deadLetters]]);
    renderFamily(lines, 'fink_stream2science_transactions_total', 'counter', 'SQLite transactions committed (alerts with their upstream positions).', [['', this.transactions]]);
    renderFamily(lines, 'fink_stream2science_lag_messages', 'gauge', 'Messages behind the upstream high watermark, per partition.', [...this.lag.values()].map((l) => [`{topic="${l.topic}",partition="${l.partition}"}`, l.messages]));
    renderFamily(lines, 'fink_stream2science_errors_total', 'counter', 'Errors by kind (upstream, registry).', [...this.errors].map(([k, v]) => [`{kind="${k}"}`, v]));
    return lines.join('\n') + '\n';
  }
}
