// What each user filter has sent, per night, kept in a compacted topic of the cluster
// (USER_FILTER_USAGE_TOPIC) so that `fink filter list` and every instance of a group see it: one
// record per distribution instance, keyed `<DISTRIBUTION_ID>/single` or
// `<DISTRIBUTION_ID>/group/<group>`, its value the instance's cumulative alerts and bytes per filter
// for the nights kept. An instance writes its record in the transaction of the batch that changed
// it, so the record says exactly what that instance's committed batches sent, across restarts,
// SIGKILLs and rebalances; the sum of the records is what the user topics hold. Only records
// written in a transaction count: anything else is named and passed over.
import type { Consumer } from '@platformatic/kafka';
import { FetchIsolationLevels, ListOffsetTimestamps } from '@platformatic/kafka';
import { setTimeout as sleep } from 'node:timers/promises';
import { FinkError } from '../errors.ts';
import { closeQuietly, type KafkaConnection } from '../kafka/client-options.ts';
import { isUnknownTopic } from '../kafka/errors.ts';
import { fetchPartitions, newPartitionReader, readTopic, TopicMissingError, type ConsumedMessage } from '../kafka/topic-reader.ts';
import { ensureTopic } from '../kafka/topics.ts';
import type { Message } from '../kafka/transactional-session.ts';
import type { Logger } from '../log.ts';
import { parseQuotaUsage, type QuotaUsage } from './user-quota.ts';

export interface NightUsage {
  alerts: number;
  bytes: number;
}

/** `<owner>/<name>/<survey>` -> night (YYYYMMDD) -> what was sent. */
export type FilterUsage = Record<string, Record<string, NightUsage>>;

/** A record of the usage topic that is not a usage record: named and passed over. */
export interface IgnoredUsage {
  partition: number;
  offset: bigint;
  key: string | null;
  reason: string;
}

/** The key of an instance's record. */
export function usageKey(id: string, group: string | undefined): string {
  return group === undefined ? `${id}/single` : `${id}/group/${group}`;
}

/**
 * A filter's nights as usageOf made them, by its bytes' nights object, with the alerts' nights they
 * were made with. The ledger replaces a filter's nights rather than changing them (user-quota.ts), so
 * the same two objects mean the same usage: a batch remakes only the filters it sent to, not all of
 * them (with a hundred filters the usage record of every batch was made whole again).
 */
const madeNights = new WeakMap<Record<string, number>, { alerts: Record<string, number> | undefined; usage: Record<string, NightUsage> }>();

/** The ledger's two views (user-quota.ts) as one usage. Its filters' nights may be shared with an earlier call's: read them, do not change them. */
export function usageOf(bytes: QuotaUsage, alerts: QuotaUsage): FilterUsage {
  const out: FilterUsage = {};
  for (const [filter, nights] of Object.entries(bytes)) {
    const alertNights = alerts[filter];
    const made = madeNights.get(nights);
    if (made !== undefined && made.alerts === alertNights) {
      out[filter] = made.usage;
      continue;
    }
    const usage: Record<string, NightUsage> = {};
    for (const [night, b] of Object.entries(nights)) usage[night] = { alerts: alertNights?.[night] ?? 0, bytes: b };
    madeNights.set(nights, { alerts: alertNights, usage });
    out[filter] = usage;
  }
  return out;
}

/** A usage as the ledger restores it. */
export function ledgerParts(usage: FilterUsage): { bytes: QuotaUsage; alerts: QuotaUsage } {
  const bytes: QuotaUsage = {};
  const alerts: QuotaUsage = {};
  for (const [filter, nights] of Object.entries(usage)) {
    for (const [night, u] of Object.entries(nights)) {
      (bytes[filter] ??= {})[night] = u.bytes;
      (alerts[filter] ??= {})[night] = u.alerts;
    }
  }
  return { bytes, alerts };
}

/** The records added up. */
export function sumUsage(records: Iterable<FilterUsage>): FilterUsage {
  const out: FilterUsage = {};
  for (const usage of records) {
    for (const [filter, nights] of Object.entries(usage)) {
      for (const [night, u] of Object.entries(nights)) {
        const sum = ((out[filter] ??= {})[night] ??= { alerts: 0, bytes: 0 });
        sum.alerts += u.alerts;
        sum.bytes += u.bytes;
      }
    }
  }
  return out;
}

export function usageMessage(topic: string, key: string, usage: FilterUsage): Message {
  return { topic, partition: 0, key: Buffer.from(key), value: Buffer.from(JSON.stringify({ filters: usage, at: new Date().toISOString() })) };
}

/** A record's usage from its JSON text, or what is wrong with it. */
export function parseUsage(text: string): FilterUsage | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'not a JSON object';
  const { filters } = value as Record<string, unknown>;
  if (filters === null || typeof filters !== 'object' || Array.isArray(filters)) return "no 'filters' object";
  const usage: FilterUsage = {};
  for (const [filter, nights] of Object.entries(filters)) {
    if (nights === null || typeof nights !== 'object' || Array.isArray(nights)) return `'filters' of ${JSON.stringify(filter)} is not an object`;
    for (const [night, u] of Object.entries(nights as Record<string, unknown>)) {
      const { alerts, bytes } = (u ?? {}) as Record<string, unknown>;
      // The checks of a checkpoint's usage, one count at a time.
      const problem = [parseQuotaUsage({ [filter]: { [night]: alerts } }, 'alerts'), parseQuotaUsage({ [filter]: { [night]: bytes } }, 'bytes')].find((p) => typeof p === 'string');
      if (problem !== undefined) return problem;
      (usage[filter] ??= {})[night] = { alerts: alerts as number, bytes: bytes as number };
    }
  }
  return usage;
}

/** Creates the usage topic unless it exists: compacted (the last record of a key holds), one partition. */
export async function ensureUsageTopic(connection: KafkaConnection, topic: string, replication: { replicationFactor: number; minIsr: number }): Promise<boolean> {
  return ensureTopic(connection, topic, {
    partitions: 1,
    replicationFactor: replication.replicationFactor,
    configs: { 'cleanup.policy': 'compact', 'min.insync.replicas': String(replication.minIsr) },
  });
}

/** Takes one record into `records` (the last of a key holds, a tombstone removes it), or says why not. */
function take(records: Map<string, FilterUsage>, m: ConsumedMessage): IgnoredUsage | undefined {
  const key = m.key?.toString('utf8') ?? null;
  const ignored = (reason: string): IgnoredUsage => ({ partition: m.partition, offset: m.offset, key, reason });
  if (key === null) return ignored('a record without a key');
  if (!m.transactional) return ignored('not written in a transaction');
  if (m.value === null) {
    records.delete(key);
    return undefined;
  }
  const parsed = parseUsage(m.value.toString('utf8'));
  if (typeof parsed === 'string') return ignored(parsed);
  records.set(key, parsed);
  return undefined;
}

/** Every instance's record, read to the topic's end at read_committed; null when the topic does not exist (no distribution reported yet). */
export async function readUsage(connection: KafkaConnection, topic: string, settleMs = 2000): Promise<{ records: Map<string, FilterUsage>; ignored: IgnoredUsage[] } | null> {
  const records = new Map<string, FilterUsage>();
  const ignored: IgnoredUsage[] = [];
  try {
    for await (const m of readTopic(connection, topic, { settleMs })) {
      const problem = take(records, m);
      if (problem !== undefined) ignored.push(problem);
    }
  } catch (err) {
    if (err instanceof TopicMissingError) return null;
    throw err;
  }
  return { records, ignored };
}

/** How long `refresh(true)` waits for the transactions open when it starts to end (a group member's time out in 10 s). */
const SETTLE_MS = 30_000;

interface Placed {
  topicId: string;
  leaders: number[];
}

/**
 * The usage topic followed by a group member: each refresh reads only what was committed since
 * the last (the topic takes a record per batch of every instance, and compaction trails).
 */
export class UsageFollower {
  readonly #connection: KafkaConnection;
  readonly #topic: string;
  readonly #log: Logger;
  readonly #clientId: string;
  #reader: Consumer | undefined;
  #placed: Placed | undefined;
  /** Where each partition was read to: kept when the leaders are asked again. */
  #positions: bigint[] = [];
  /** The last record of each key read so far. */
  readonly records = new Map<string, FilterUsage>();

  constructor(connection: KafkaConnection, topic: string, clientId: string, log: Logger) {
    this.#connection = connection;
    this.#topic = topic;
    this.#log = log;
    this.#clientId = clientId;
  }

  /**
   * Reads what was committed since the last refresh. With `settle`, first waits until every
   * transaction open now has ended, so that whatever committed before the call is read (a member's
   * own last record after its session opened: the session completed its earlier transaction).
   */
  async refresh(settle: boolean): Promise<void> {
    this.#reader ??= newPartitionReader(this.#connection, this.#clientId);
    try {
      this.#placed ??= await this.#place(this.#reader);
    } catch (err) {
      if (isUnknownTopic(err)) return;
      throw err;
    }
    const placed = this.#placed;
    const until = settle ? await this.#settled(this.#reader) : await this.#ends(this.#reader, FetchIsolationLevels.READ_COMMITTED);
    try {
      await this.#readTo(this.#reader, placed, until);
    } catch (err) {
      // Leaders are asked again next time.
      this.#placed = undefined;
      throw err;
    }
  }

  async #place(reader: Consumer): Promise<Placed> {
    const metadata = await reader.metadata({ topics: [this.#topic], forceUpdate: true });
    const described = metadata.topics.get(this.#topic);
    if (described === undefined) throw new FinkError(`topic ${this.#topic} is not in the cluster's metadata`, { code: 'FINK_KAFKA' });
    const starts = (await reader.listOffsets({ topics: [this.#topic], timestamp: ListOffsetTimestamps.EARLIEST })).get(this.#topic) ?? [];
    this.#positions = described.partitions.map((_, p) => this.#positions[p] ?? starts[p] ?? 0n);
    return { topicId: described.id, leaders: described.partitions.map((p) => p.leader) };
  }

  async #ends(reader: Consumer, isolationLevel: number): Promise<bigint[]> {
    return (await reader.listOffsets({ topics: [this.#topic], timestamp: ListOffsetTimestamps.LATEST, isolationLevel })).get(this.#topic) ?? [];
  }

  /** The log's end now, once the stable end has reached it (or SETTLE_MS passed: the stable end then). */
  async #settled(reader: Consumer): Promise<bigint[]> {
    const high = await this.#ends(reader, FetchIsolationLevels.READ_UNCOMMITTED);
    const deadline = Date.now() + SETTLE_MS;
    for (;;) {
      const stable = await this.#ends(reader, FetchIsolationLevels.READ_COMMITTED);
      if (high.every((h, p) => (stable[p] ?? 0n) >= h) || Date.now() >= deadline) return stable.map((s, p) => (s < (high[p] ?? 0n) ? s : high[p]!));
      await sleep(20);
    }
  }

  async #readTo(reader: Consumer, placed: Placed, until: readonly bigint[]): Promise<void> {
    for (;;) {
      const open = this.#positions.flatMap((at, partition) => (at < (until[partition] ?? 0n) ? [partition] : []));
      if (open.length === 0) return;
      let moved = false;
      for (const partition of open) {
        const [part] = await fetchPartitions(reader, placed.leaders[partition]!, [{ topic: this.#topic, topicId: placed.topicId, partition, offset: this.#positions[partition]! }], { maxWaitTime: 100, partitionMaxBytes: 1 << 20, log: this.#log });
        if (part === undefined || part.error !== 'NONE') throw new FinkError(`fetching ${this.#topic}/${partition} failed: ${part?.error ?? 'no answer'}`, { code: 'FINK_KAFKA' });
        for (const m of part.messages) {
          const problem = take(this.records, m);
          if (problem !== undefined) this.#log('warn', 'a record of the user filter usage topic is not a usage record: passed over', { topic: this.#topic, ...problem, offset: String(problem.offset), key: problem.key ?? '(none)' });
        }
        if (part.next > this.#positions[partition]!) {
          this.#positions[partition] = part.next;
          moved = true;
        }
      }
      // Below the stable end a fetch always brings something; should it not, the rest waits for the next refresh.
      if (!moved) return;
    }
  }

  async close(): Promise<void> {
    if (this.#reader !== undefined) await closeQuietly(this.#reader);
    this.#reader = undefined;
    this.#placed = undefined;
  }
}
