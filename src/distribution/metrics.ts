// Counters of the distribution, rendered for the Prometheus endpoint (src/metrics-endpoint.ts) that
// serves them when DISTRIBUTION_METRICS_PORT is set.
import { renderFamily } from '../metrics-endpoint.ts';

export class Metrics {
  alerts = 0;
  readonly messages = new Map<string, number>();
  readonly bytes = new Map<string, number>();
  readonly errors = new Map<string, number>();
  batches = 0;
  batchSecondsSum = 0;
  lag = 0;
  /** Transactions given up after sending data (a healthy cluster aborts none). */
  transactionsAborted = 0;
  /** Alerts for which a user filter's condition threw (counted as not matching), by `<owner>/<name>/<survey>`. */
  readonly userFilterErrors = new Map<string, number>();
  /** Matching alerts not sent because the user filter had reached its quota of the night, by filter. */
  readonly userFilterOverQuota = new Map<string, number>();

  /** Topics start at zero, so that one with nothing sent yet still shows. */
  declareTopics(topics: readonly string[]): void {
    for (const topic of topics) {
      if (!this.messages.has(topic)) this.messages.set(topic, 0);
      if (!this.bytes.has(topic)) this.bytes.set(topic, 0);
    }
  }

  countMessage(topic: string, bytes: number): void {
    this.messages.set(topic, (this.messages.get(topic) ?? 0) + 1);
    this.bytes.set(topic, (this.bytes.get(topic) ?? 0) + bytes);
  }

  /** A committed batch: only then do its alerts and messages count. */
  countBatch(alerts: number, messages: readonly { topic: string; key?: Buffer; value?: Buffer }[], seconds: number): void {
    this.alerts += alerts;
    this.batches++;
    this.batchSecondsSum += seconds;
    for (const m of messages) this.countMessage(m.topic, (m.key?.length ?? 0) + (m.value?.length ?? 0));
  }

  countError(kind: string, count = 1): void {
    this.errors.set(kind, (this.errors.get(kind) ?? 0) + count);
  }

  countUserFilterError(filter: string): void {
    this.userFilterErrors.set(filter, (this.userFilterErrors.get(filter) ?? 0) + 1);
  }

  totalBytes(): number {
    let sum = 0;
    for (const b of this.bytes.values()) sum += b;
    return sum;
  }

  render(): string {
    const lines: string[] = [];
    const family = (name: string, type: 'counter' | 'gauge' | 'summary', help: string, samples: [string, number][]) => renderFamily(lines, name, type, help, samples);
    const byTopic = (m: Map<string, number>) => [...m].map(([t, v]) => [`{topic="${t}"}`, v] as [string, number]);
    family('fink_distribution_alerts_total', 'counter', 'Alerts read from the science database and handled.', [['', this.alerts]]);
    family('fink_distribution_messages_total', 'counter', 'Messages committed, per topic.', byTopic(this.messages));
    family('fink_distribution_bytes_total', 'counter', 'Key and value bytes committed, per topic.', byTopic(this.bytes));
    family('fink_distribution_batch_seconds', 'summary', 'Time to read, encode, produce and commit a batch.', [['_sum', this.batchSecondsSum], ['_count', this.batches]].map(([s, v]) => [s as string, v as number]));
    family('fink_distribution_lag_alerts', 'gauge', 'Alerts in the science database not yet distributed.', [['', this.lag]]);
    family('fink_distribution_transactions_aborted_total', 'counter', 'Transactions given up after sending data; their batches are sent again.', [['', this.transactionsAborted]]);
    family('fink_distribution_errors_total', 'counter', 'Errors by kind (filter, oversize, kafka; group mode: log-record, duplicate).', [...this.errors].map(([k, v]) => [`{kind="${k}"}`, v] as [string, number]));
    family('fink_distribution_user_filter_errors_total', 'counter', "Alerts for which a user filter's condition threw (not matched), per filter.", [...this.userFilterErrors].map(([k, v]) => [`{filter="${k}"}`, v] as [string, number]));
    family('fink_distribution_user_filter_over_quota_total', 'counter', 'Matching alerts not sent to a user filter past its quota of the night, per filter.', [...this.userFilterOverQuota].map(([k, v]) => [`{filter="${k}"}`, v] as [string, number]));
    return lines.join('\n') + '\n';
  }
}
