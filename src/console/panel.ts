// The service panel: is the distribution running, how fast each topic fills (from the service's
// Prometheus endpoint when it has one, else from the topics' end offsets), how far the
// service is behind the science database per night (with the science log instead: the log's own
// rates and the group's lag, log-panel.ts), the user filters with their rates (user-filters.ts),
// errors by kind, and which brokers answer.
// Without the endpoint, rates come from the topics' stable end offsets, which count transaction
// markers too (one per partition a transaction wrote): a slight overcount, said on the page.
import { withAdmin, type KafkaConnection } from '../kafka/client-options.ts';
import { openReader, type AlertReader } from '../sciencedb/reader.ts';
import { ScienceLogPanel, type ScienceLogSnapshot } from './log-panel.ts';
import type { TopicFeed } from './stream.ts';
import { UserFilterList, type UserFiltersSnapshot, type UserFilterSource } from './user-filters.ts';

/** What the entry point knows of the service (its pid file, its committed checkpoint). */
export interface ServiceProbe {
  process(): { id: string; pid: number | undefined };
  /** Night -> last sequence committed, or null before the first commit. */
  checkpoint(): Promise<Readonly<Record<string, number>> | null>;
}

export interface RateSample {
  t: number;
  /** Topic -> [messages/s, MB/s] since the previous sample. */
  topics: Record<string, [number, number]>;
}

export interface PanelSnapshot {
  service: { id: string; running: boolean; pid: number | null };
  rateSource: 'metrics endpoint' | 'end offsets';
  rates: RateSample[];
  lag: { night: string; stored: number; committed: number; behind: number }[];
  /** SCIENCE_STORE: which science database the service reads. */
  store: 'sqlite' | 'kafka';
  /** With the science log: its topics' rates and the group's lag (null with SQLite). */
  log: ScienceLogSnapshot | null;
  /** The registered user filters with their rates (null when the console was given no registrations topic). */
  userFilters: UserFiltersSnapshot | null;
  errors: { kind: string; count: number }[];
  kafka: { up: boolean; message: string | null; brokers: { id: number; address: string; up: boolean }[] };
}

/** Counters of the Prometheus text format: metric name -> label value (or '') -> value. */
export function parsePrometheus(text: string): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(?:\{[a-z_]+="((?:[^"\\]|\\.)*)"\})? (\S+)$/.exec(line);
    if (m === null) continue;
    let family = out.get(m[1]!);
    if (family === undefined) out.set(m[1]!, (family = new Map()));
    family.set(m[2] ?? '', Number(m[3]));
  }
  return out;
}

const HISTORY = 150;

export class ServicePanel {
  readonly #probe: ServiceProbe;
  readonly #connection: KafkaConnection;
  readonly #metricsPort: number | undefined;
  readonly #reader: AlertReader;
  readonly #log: ScienceLogPanel | undefined;
  readonly #userFilters: UserFilterList | undefined;
  /** The counters of the last scrape (undefined: no endpoint, or it did not answer). */
  #metrics: Map<string, Map<string, number>> | undefined;
  readonly #rates: RateSample[] = [];
  #previous: { t: number; totals: Map<string, [number, number]> } | undefined;
  #errors = new Map<string, number>();
  #lag: PanelSnapshot['lag'] = [];
  #rateSource: PanelSnapshot['rateSource'] = 'end offsets';
  readonly #brokersSeen = new Map<number, string>();
  #kafka: PanelSnapshot['kafka'] = { up: false, message: 'not asked yet', brokers: [] };

  /** `log`: the science log's prefix and the distribution's group, when the store is the log; `userFilters`: where the registrations are. */
  constructor(probe: ServiceProbe, connection: KafkaConnection, scienceDb: string, metricsPort: number | undefined, log?: { prefix: string; group: string }, userFilters?: UserFilterSource) {
    this.#probe = probe;
    this.#connection = connection;
    this.#metricsPort = metricsPort;
    this.#reader = openReader(scienceDb);
    this.#log = log === undefined ? undefined : new ScienceLogPanel(connection, log.prefix, log.group);
    this.#userFilters = userFilters === undefined ? undefined : new UserFilterList(connection, userFilters);
  }

  /** Takes one sample of everything; errors of one source leave the others standing. */
  async sample(feeds: readonly TopicFeed[]): Promise<void> {
    const metrics = await this.#scrape();
    this.#metrics = metrics;
    const totals = new Map<string, [number, number]>();
    const errors = new Map<string, number>();
    if (metrics !== undefined) {
      this.#rateSource = 'metrics endpoint';
      const bytes = metrics.get('fink_distribution_bytes_total');
      for (const [topic, n] of metrics.get('fink_distribution_messages_total') ?? []) totals.set(topic, [n, bytes?.get(topic) ?? 0]);
      for (const [kind, n] of metrics.get('fink_distribution_errors_total') ?? []) errors.set(kind, n);
      const aborted = metrics.get('fink_distribution_transactions_aborted_total')?.get('');
      if (aborted !== undefined && aborted > 0) errors.set('transactions aborted', aborted);
    } else {
      // Without the endpoint: offsets committed, and bytes as many times the mean size of the messages the console read.
      this.#rateSource = 'end offsets';
      for (const { topic, counts } of feeds) totals.set(topic, [counts.committed, counts.messages === 0 ? 0 : (counts.committed * counts.bytes) / counts.messages]);
    }
    for (const feed of feeds) if (feed.counts.decodeErrors > 0) errors.set(`console: undecodable on ${feed.topic}`, feed.counts.decodeErrors);
    this.#errors = errors;
    const now = Date.now();
    if (this.#previous !== undefined) {
      const seconds = (now - this.#previous.t) / 1000;
      const topics: RateSample['topics'] = {};
      for (const [topic, [messages, bytes]] of totals) {
        const [m0, b0] = this.#previous.totals.get(topic) ?? [messages, bytes];
        // A restarted service starts its counters again from zero.
        topics[topic] = [Math.max(0, messages - m0) / seconds, Math.max(0, bytes - b0) / seconds / 1e6];
      }
      this.#rates.push({ t: now, topics });
      if (this.#rates.length > HISTORY) this.#rates.shift();
    }
    this.#previous = { t: now, totals };
    // With the log, the lag is the group's (no checkpoint, no nights); the SQLite files are not read.
    // The user filters are looked at beside, not waited for: the snapshot has what the last look found.
    void this.#userFilters?.refresh();
    await Promise.all([this.#log === undefined ? this.#sampleLag() : this.#log.sample(), this.#sampleBrokers()]);
  }

  async #scrape(): Promise<Map<string, Map<string, number>> | undefined> {
    if (this.#metricsPort === undefined) return undefined;
    try {
      const response = await fetch(`http://127.0.0.1:${this.#metricsPort}/metrics`, { signal: AbortSignal.timeout(1500) });
      return response.ok ? parsePrometheus(await response.text()) : undefined;
    } catch {
      // The service is not running (or not yet): the console's own counts stand in.
      return undefined;
    }
  }

  async #sampleLag(): Promise<void> {
    try {
      const head = this.#reader.head();
      const committed = (await this.#probe.checkpoint()) ?? {};
      this.#lag = Object.entries(head).map(([night, stored]) => ({ night, stored, committed: committed[night] ?? 0, behind: Math.max(0, stored - (committed[night] ?? 0)) }));
    } catch (err) {
      this.#errors.set(`console: lag unknown (${(err as Error).message})`, 1);
    }
  }

  async #sampleBrokers(): Promise<void> {
    try {
      const metadata = await withAdmin(this.#connection, (admin) => admin.metadata({ topics: [] }), { retries: 0, timeout: 2000 });
      for (const [id, broker] of metadata.brokers) this.#brokersSeen.set(id, `${broker.host}:${broker.port}`);
      const brokers = [...this.#brokersSeen].sort(([a], [b]) => a - b).map(([id, address]) => ({ id, address, up: metadata.brokers.has(id) }));
      this.#kafka = { up: true, message: null, brokers };
    } catch (err) {
      this.#kafka = { up: false, message: (err as Error).message, brokers: [...this.#brokersSeen].map(([id, address]) => ({ id, address, up: false })) };
    }
  }

  snapshot(): PanelSnapshot {
    const { id, pid } = this.#probe.process();
    return {
      service: { id, running: pid !== undefined, pid: pid ?? null },
      rateSource: this.#rateSource,
      rates: [...this.#rates],
      lag: this.#lag,
      store: this.#log === undefined ? 'sqlite' : 'kafka',
      log: this.#log?.snapshot() ?? null,
      // Rates of the last sample only: "now", as the rates table's first column.
      userFilters: this.#userFilters?.snapshot(this.#rates.at(-1)?.topics, this.#metrics) ?? null,
      errors: [...this.#errors].map(([kind, count]) => ({ kind, count })),
      kafka: this.#kafka,
    };
  }

  close(): void {
    this.#reader.close();
    void this.#log?.close();
    void this.#userFilters?.close();
  }
}
