// The console's state behind the page: a feed per topic (the test topic and every science topic,
// looked for again now and then), the alerts the page may open, the service panel, and the
// updates pushed to every open page on a fixed beat, whatever the rate of alerts.
import { extendRecord, type RecordSchema } from '../avro/schema.ts';
import { MessageDecoder } from '../consumer/message-decoder.ts';
import { listTopics } from '../kafka/topics.ts';
import { findAlerts, type AlertKey } from '../sciencedb/lookup.ts';
import { decodeHeld, holdAlert, HeldAlerts, rowMessage, typeOf, type HeldAlert, type RowMessage } from './held.ts';
import { ServicePanel, type PanelSnapshot, type ServiceProbe } from './panel.ts';
import type { ConsoleSettings } from './settings.ts';
import { TopicFeed } from './stream.ts';

/** What the live state needs: the console's settings it reads, and how it looks at the service. */
export interface LiveOptions extends Pick<ConsoleSettings, 'connection' | 'schemaBase' | 'testTopic' | 'prefix' | 'scienceDb' | 'metricsPort'>, Partial<Pick<ConsoleSettings, 'store' | 'scienceTopicPrefix' | 'group' | 'userFiltersTopic' | 'userTopicPrefix' | 'userFilterQuotaMb' | 'schemaRegistry'>> {
  probe: ServiceProbe;
  /** Time between two updates of the page (ms). */
  updateMs?: number;
  /** Alerts per topic per update at most. */
  perUpdate?: number;
}

export type ConsoleEvent =
  | { type: 'alerts'; rows: RowMessage[] }
  | { type: 'service'; panel: PanelSnapshot; topics: { topic: string; messages: number; reading: string; lastError: string | null }[] };

const ROWS_KEPT = 50;

export class LiveConsole {
  readonly #settings: LiveOptions;
  readonly #decoder: MessageDecoder;
  readonly #feeds = new Map<string, TopicFeed>();
  readonly #held = new HeldAlerts(500);
  readonly #latest: RowMessage[] = [];
  readonly #listeners = new Set<(event: ConsoleEvent) => void>();
  readonly #panel: ServicePanel;
  readonly #controller = new AbortController();
  readonly #timers: NodeJS.Timeout[] = [];
  #beat: NodeJS.Timeout | undefined;
  #sampling = false;

  constructor(settings: LiveOptions) {
    this.#settings = settings;
    // Both wire formats, told apart per message (a Confluent schema id through the registry, once).
    this.#decoder = new MessageDecoder(settings.schemaBase, settings.schemaRegistry);
    const log = settings.store === 'kafka' ? { prefix: settings.scienceTopicPrefix ?? '', group: settings.group ?? '' } : undefined;
    const userFilters = settings.userFiltersTopic === undefined ? undefined : { topic: settings.userFiltersTopic, defaultQuotaMb: settings.userFilterQuotaMb };
    this.#panel = new ServicePanel(settings.probe, settings.connection, settings.scienceDb, settings.metricsPort, log, userFilters);
  }

  start(): void {
    this.#follow(this.#settings.testTopic);
    void this.#discover();
    this.#timers.push(setInterval(() => void this.#discover(), 10_000));
    // Each update is timed from the end of the previous one (an interval would bunch its late ticks together).
    const beat = () => {
      try {
        this.#update();
      } catch (err) {
        // An update that fails (a held alert's schema refused, say) is skipped; the beat goes on.
        process.stderr.write(`console: an update of the page failed: ${(err as Error).message}\n`);
      }
      this.#beat = setTimeout(beat, this.#settings.updateMs ?? 400);
    };
    this.#beat = setTimeout(beat, this.#settings.updateMs ?? 400);
    this.#timers.push(setInterval(() => void this.#sample(), 2000));
  }

  #follow(topic: string): void {
    if (this.#feeds.has(topic)) return;
    const feed = new TopicFeed(topic, this.#settings.perUpdate ?? 8);
    this.#feeds.set(topic, feed);
    void feed.follow(this.#settings.connection, 20, this.#controller.signal);
  }

  async #discover(): Promise<void> {
    try {
      for (const topic of await listTopics(this.#settings.connection)) if (this.#isFollowed(topic) && !this.#isScienceLog(topic)) this.#follow(topic);
    } catch {
      // Kafka away: the panel says so; topics are looked for again at the next turn.
    }
  }

  /** A community topic, or a user filter's (whose prefix need not start with the community topics' own). */
  #isFollowed(topic: string): boolean {
    const user = this.#settings.userTopicPrefix;
    return topic.startsWith(this.#settings.prefix) || (user !== undefined && user !== '' && topic.startsWith(user));
  }

  /** The science log's topics (whose prefix may start with the community topics' own) hold log records, not alerts to show. */
  #isScienceLog(topic: string): boolean {
    return this.#settings.store === 'kafka' && topic.startsWith(this.#settings.scienceTopicPrefix ?? '');
  }

  #update(): void {
    const rows: RowMessage[] = [];
    for (const feed of this.#feeds.values()) rows.push(...feed.take(this.#decoder, this.#held));
    if (rows.length === 0) return;
    this.#latest.push(...rows);
    this.#latest.splice(0, Math.max(0, this.#latest.length - ROWS_KEPT * this.#feeds.size));
    this.#emit({ type: 'alerts', rows });
  }

  async #sample(): Promise<void> {
    // Nobody looking: the panel asks Kafka and the database nothing (the first page triggers a sample).
    if (this.#sampling || this.#listeners.size === 0) return;
    this.#sampling = true;
    try {
      await this.#panel.sample([...this.#feeds.values()]);
      this.#emit(this.serviceEvent());
    } catch (err) {
      // A sample that fails is skipped (the next one comes in 2 s); it never ends the console.
      process.stderr.write(`console: the service panel's sample failed: ${(err as Error).message}\n`);
    } finally {
      this.#sampling = false;
    }
  }

  serviceEvent(): ConsoleEvent {
    const topics = [...this.#feeds.values()].map((f) => ({ topic: f.topic, messages: f.counts.messages, reading: f.counts.reading, lastError: f.counts.lastError }));
    return { type: 'service', panel: this.#panel.snapshot(), topics };
  }

  #emit(event: ConsoleEvent): void {
    for (const listener of this.#listeners) listener(event);
  }

  /** Subscribes a page: it first gets the rows held now, then every update; returns the unsubscribe. */
  subscribe(listener: (event: ConsoleEvent) => void): () => void {
    listener({ type: 'alerts', rows: [...this.#latest] });
    listener(this.serviceEvent());
    this.#listeners.add(listener);
    if (this.#listeners.size === 1) void this.#sample();
    return () => this.#listeners.delete(listener);
  }

  alert(id: string): HeldAlert | undefined {
    return this.#held.get(id);
  }

  decode(alert: HeldAlert): Record<string, unknown> {
    return decodeHeld(alert);
  }

  /** Why search is not offered, or null when it is: the science log has no index by object or candid. */
  get searchRefused(): string | null {
    if (this.#settings.store !== 'kafka') return null;
    return 'search needs the SQLite science database (SCIENCE_STORE=sqlite): the science log (SCIENCE_STORE=kafka) is not indexed by objectId or candid (an object\'s alerts lie on one partition of its survey\'s topic, which would have to be read whole)';
  }

  /** Alerts of the science database with this objectId or candid (newest first), held so the page can open them. */
  search(key: AlertKey, limit = 50): RowMessage[] {
    return findAlerts(this.#settings.scienceDb, key, limit).map((found) => {
      const base = JSON.parse(found.schemaJson) as RecordSchema;
      const schema = found.added === null ? base : extendRecord(base, (JSON.parse(found.added.schemaJson) as RecordSchema).fields);
      const value = found.added === null ? found.datum : Buffer.concat([found.datum, found.added.datum]);
      const type = typeOf(JSON.stringify(schema));
      const fields = { id: `db:${found.night}:${found.seq}`, origin: `science database night ${found.night} #${found.seq}`, topic: null, timeMs: found.ingestedMs, schema, type, value };
      const alert = holdAlert(fields, type.fromBuffer(Buffer.from(value)) as Record<string, unknown>);
      this.#held.add(alert);
      return rowMessage(alert);
    });
  }

  stop(): void {
    this.#controller.abort();
    for (const t of this.#timers) clearInterval(t);
    clearTimeout(this.#beat);
    this.#listeners.clear();
    this.#panel.close();
  }
}
