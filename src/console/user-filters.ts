// The panel's table of user filters (`fink filter add`): the registrations as every distribution
// instance sees them (the compacted USER_FILTERS_TOPIC), each with its topic's rates now and, when
// the service serves its Prometheus endpoint, its alerts over quota and those its condition threw
// for. On each beat of the panel only the registrations topic's end is asked (one ListOffsets);
// the registrations are read again when it moved. The panel does not wait for it (a Kafka slow to
// answer must not hold up the rest of the panel): it shows what the last look found. No topic yet: no user filters. A console whose
// Kafka user may not read the topic (secured mode) says so once, in the table's note.
import { randomBytes } from 'node:crypto';
import { Consumer } from '@platformatic/kafka';
import { closeQuietly, type KafkaConnection } from '../kafka/client-options.ts';
import { classifyKafkaError } from '../kafka/errors.ts';
import type { Registration } from '../userfilter/registration.ts';
import { readRegistrations, registrationsVersion } from '../userfilter/registrations.ts';

/** Where the registrations are, and the quota of a filter registered without one. */
export interface UserFilterSource {
  /** USER_FILTERS_TOPIC. */
  topic: string;
  /** USER_FILTER_QUOTA_MB: megabytes a night for a registration without --quota-mb; undefined: no quota. */
  defaultQuotaMb: number | undefined;
}

export interface UserFilterRow {
  owner: string;
  name: string;
  survey: string;
  /** The condition as the user wrote it: text for the page, never markup. */
  where: string;
  topic: string;
  content: string;
  /** Megabytes a night, and whether that is the filter's own or the default (null: no quota). */
  quotaMb: number | null;
  quotaFrom: 'filter' | 'default' | 'none';
  /** The topic's rates at the last sample (same sources as the panel's); null before two samples. */
  alertsPerSecond: number | null;
  bytesPerSecond: number | null;
  /** From the service's metrics endpoint; null without one. */
  overQuota: number | null;
  errors: number | null;
}

export interface UserFiltersSnapshot {
  topic: string;
  /** The registrations topic's end when the rows were read (text: a 64-bit offset sum); null before the first read. */
  version: string | null;
  filters: UserFilterRow[];
  /** Why the registrations are not shown (or not current), or null. */
  problem: string | null;
}

/** The counters the panel scraped: metric name -> label value -> value (panel.ts parsePrometheus). */
export type Scraped = ReadonlyMap<string, ReadonlyMap<string, number>>;

/** The rows for these registrations, from the last rate sample (topic -> [msg/s, MB/s]) and the scraped counters. */
export function userFilterRows(registrations: Iterable<Registration>, source: UserFilterSource, rates: Readonly<Record<string, readonly [number, number]>> | undefined, metrics: Scraped | undefined): UserFilterRow[] {
  const overQuota = metrics?.get('fink_distribution_user_filter_over_quota_total');
  const errors = metrics?.get('fink_distribution_user_filter_errors_total');
  const rows = [...registrations].map((r): UserFilterRow => {
    const key = `${r.owner}/${r.name}/${r.survey}`;
    const quotaFrom = r.quotaMb !== null ? 'filter' : source.defaultQuotaMb !== undefined ? 'default' : 'none';
    const rate = rates?.[r.topic];
    return {
      owner: r.owner,
      name: r.name,
      survey: r.survey,
      where: r.where,
      topic: r.topic,
      content: r.content,
      quotaMb: r.quotaMb ?? source.defaultQuotaMb ?? null,
      quotaFrom,
      // A sample without the topic: nothing was sent to it between the two samples.
      alertsPerSecond: rates === undefined ? null : (rate?.[0] ?? 0),
      bytesPerSecond: rates === undefined ? null : (rate?.[1] ?? 0) * 1e6,
      overQuota: metrics === undefined ? null : (overQuota?.get(key) ?? 0),
      errors: metrics === undefined ? null : (errors?.get(key) ?? 0),
    };
  });
  return rows.sort((a, b) => a.owner.localeCompare(b.owner) || a.name.localeCompare(b.name) || a.survey.localeCompare(b.survey));
}

export class UserFilterList {
  readonly #connection: KafkaConnection;
  readonly #source: UserFilterSource;
  #reader: Consumer | undefined;
  /** The registrations topic's end when last read; -1: never read. */
  #version = -1n;
  #registrations: Registration[] = [];
  #problem: string | null = null;
  #looking: Promise<void> | undefined;

  constructor(connection: KafkaConnection, source: UserFilterSource) {
    this.#connection = connection;
    this.#source = source;
  }

  /** Starts a look unless one is under way; resolves when that look ends. Never rejects. */
  refresh(): Promise<void> {
    this.#looking ??= this.sample().finally(() => (this.#looking = undefined));
    return this.#looking;
  }

  /** Looks at the registrations topic's end; reads the registrations again when it moved. Never throws. */
  async sample(): Promise<void> {
    try {
      // No retries: the client retries a topic it does not know (no filter registered yet) for seconds.
      this.#reader ??= new Consumer({ clientId: 'fink-console-user-filters', groupId: `fink-console-user-filters-${randomBytes(6).toString('hex')}`, ...this.#connection, retries: 0, timeout: 10_000 });
      const version = await registrationsVersion(this.#connection, this.#source.topic, this.#reader);
      if (version !== this.#version) {
        // An empty or missing topic holds no registration: nothing to read.
        const read = version === 0n ? { registrations: new Map<string, Registration>(), version } : await readRegistrations(this.#connection, this.#source.topic);
        this.#registrations = [...read.registrations.values()];
        this.#version = read.version;
      }
      this.#problem = null;
    } catch (err) {
      if (classifyKafkaError(err) === 'unauthorized') {
        this.#problem = this.#refused();
        this.#registrations = [];
        this.#version = -1n;
        return;
      }
      // Kafka away for a moment: the rows last read stay, and the note says they may be stale.
      this.#problem = `registrations not read from ${this.#source.topic}: ${(err as Error).message}`;
    }
  }

  #refused(): string {
    const user = this.#connection.sasl?.username;
    return `the console's Kafka user${user === undefined ? '' : ` ${user}`} may not read ${this.#source.topic}: user filters not shown (grant it READ and DESCRIBE on that topic)`;
  }

  snapshot(rates: Readonly<Record<string, readonly [number, number]>> | undefined, metrics: Scraped | undefined): UserFiltersSnapshot {
    return { topic: this.#source.topic, version: this.#version < 0n ? null : String(this.#version), filters: userFilterRows(this.#registrations, this.#source, rates, metrics), problem: this.#problem };
  }

  async close(): Promise<void> {
    await this.#looking;
    if (this.#reader !== undefined) await closeQuietly(this.#reader);
  }
}
