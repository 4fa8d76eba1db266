// The partitions stream2science reads: every partition of the wanted topics, assigned by the
// service itself (src/upstream/service.ts says why), or in shared mode those of them the upstream
// group gave this instance (src/upstream/shared.ts); each with its leader, the position it is read
// from and the high watermark last seen. The topics are listed again every UPSTREAM_TOPICS_REFRESH_MS
// or when a fetch says the metadata moved.
import type { Admin, Consumer } from '@platformatic/kafka';
import type { Logger } from '../log.ts';
import { positionKey, type PositionedMessage } from '../sciencedb/positions.ts';
import type { UpstreamPosition } from '../sciencedb/store.ts';
import { groupOffsets, offsetsAt, type PartitionRef } from './offsets.ts';
import { formatOf, wantedTopic, type Stream2ScienceSettings, type UpstreamFormat } from './settings.ts';

export interface Assigned extends PartitionRef {
  topicId: string;
  format: UpstreamFormat;
  leader: number;
  /** The offset read next. */
  next: bigint;
  /** As the last fetch saw it; -1 before the first. */
  highWatermark: bigint;
}

export type StartedBy = 'science database' | 'upstream group' | 'earliest';

/**
 * Where a newly assigned partition is read from: the science database's position (committed with
 * the alerts, the truth), else the upstream group's committed offset (-1: none), else the
 * partition's first offset.
 */
export function startOffset(stored: bigint | undefined, group: bigint, earliest: bigint): { next: bigint; by: StartedBy } {
  if (stored !== undefined) return { next: stored, by: 'science database' };
  if (group >= 0n) return { next: group, by: 'upstream group' };
  return { next: earliest, by: 'earliest' };
}

/**
 * Where a partition whose position the broker refuses is read from: before its first offset,
 * retention removed what was not read (read on from the first one left); past its end, the topic
 * was recreated (read the new one from its start). Both are its first offset.
 */
export function outOfRangeTarget(_position: bigint, first: bigint, _end: bigint): bigint {
  return first;
}

/** Caught up: some partition is assigned and every one is read to the high watermark its last fetch saw. */
export function caughtUp(parts: readonly Pick<Assigned, 'next' | 'highWatermark'>[]): boolean {
  return parts.length > 0 && parts.every((a) => a.highWatermark >= 0n && a.next >= a.highWatermark);
}

export class Assignment {
  readonly #parts = new Map<string, Assigned>();
  #stored: ReadonlyMap<string, UpstreamPosition>;
  readonly #log: Logger;
  /** Topics that match UPSTREAM_TOPICS without a format: warned about once. */
  readonly #unformatted = new Set<string>();
  #refreshedAt = -Infinity;
  /** What the last refresh listed (Kafka's internal topics aside) and how many of those are consumed. */
  #seen: { listed: string[]; consumed: number } | undefined;
  /** The wanted topics with a format, as the last refresh listed them. */
  #consumed: string[] = [];
  /** Shared mode: the partitions this instance holds (by positionKey); undefined: every partition. */
  #owned: ReadonlySet<string> | undefined;

  /** `shared`: only the partitions given by `own` are assigned (none until then). */
  constructor(stored: ReadonlyMap<string, UpstreamPosition>, log: Logger, options: { shared?: boolean } = {}) {
    this.#stored = stored;
    this.#log = log;
    if (options.shared === true) this.#owned = new Set();
  }

  /** The wanted topics with a format that the last refresh found. */
  consumedTopics(): readonly string[] {
    return this.#consumed;
  }

  /**
   * Shared mode: from now on only the partitions of `owned` are assigned, those taken read from
   * their `stored` positions; the others are dropped at once, the new ones added by the next refresh
   * (due at once).
   */
  own(owned: ReadonlySet<string>, stored: ReadonlyMap<string, UpstreamPosition>): void {
    this.#owned = owned;
    this.#stored = new Map([...[...this.#stored].filter(([key]) => owned.has(key)), ...stored]);
    for (const [key, a] of this.#parts) {
      if (owned.has(key)) continue;
      this.#parts.delete(key);
      this.#log('info', 'partition released', { topic: a.topic, partition: a.partition, at: a.next });
    }
    this.markStale();
  }

  get(topic: string, partition: number): Assigned | undefined {
    return this.#parts.get(positionKey(topic, partition));
  }

  all(): Assigned[] {
    return [...this.#parts.values()];
  }

  /** The topics are due to be listed again. */
  refreshDue(refreshMs: number): boolean {
    return performance.now() - this.#refreshedAt >= refreshMs;
  }

  /** The metadata is out of date (a leader moved, Kafka was away): list again before the next fetch. */
  markStale(): void {
    this.#refreshedAt = -Infinity;
  }

  /** Lists the topics again: new partitions get their start position, gone topics are dropped. */
  async refresh(admin: Admin, consumer: Consumer, settings: Stream2ScienceSettings): Promise<void> {
    const listed = await admin.listTopics();
    const topics = this.#consumable(listed, settings);
    this.#seen = { listed: listed.filter((t) => !t.startsWith('__')).sort(), consumed: topics.length };
    this.#consumed = topics;
    for (const [key, a] of this.#parts) if (!topics.includes(a.topic)) this.#parts.delete(key);
    if (topics.length > 0) {
      const metadata = await consumer.metadata({ topics, forceUpdate: true });
      const fresh: Assigned[] = [];
      for (const topic of topics) {
        const described = metadata.topics.get(topic);
        if (described === undefined) continue;
        described.partitions.forEach((p, partition) => {
          const known = this.get(topic, partition);
          if (this.#owned !== undefined && !this.#owned.has(positionKey(topic, partition))) return;
          if (known === undefined) fresh.push({ topic, partition, topicId: described.id, format: formatOf(settings, topic)!, leader: p.leader, next: -1n, highWatermark: -1n });
          else Object.assign(known, { leader: p.leader, topicId: described.id });
        });
      }
      await this.#start(consumer, fresh);
    }
    this.#refreshedAt = performance.now();
  }

  /** When the last refresh found no topic to consume: the line that says so, with the topics there are (a typo in UPSTREAM_TOPICS). */
  nothingMatched(settings: Pick<Stream2ScienceSettings, 'topicTexts'>): string | undefined {
    if (this.#seen === undefined || this.#seen.consumed > 0) return undefined;
    const { listed } = this.#seen;
    const shown = listed.length === 0 ? 'none' : listed.slice(0, 50).join(', ') + (listed.length > 50 ? `, and ${listed.length - 50} more` : '');
    return `no upstream topic matches UPSTREAM_TOPICS (${settings.topicTexts.join(',')}) with a format; the topics upstream: ${shown}`;
  }

  /** The wanted topics that have a format; one warning for each that has none. */
  #consumable(listed: readonly string[], settings: Stream2ScienceSettings): string[] {
    return listed.filter((t) => {
      if (!wantedTopic(settings, t)) return false;
      if (formatOf(settings, t) !== undefined) return true;
      if (!this.#unformatted.has(t)) this.#log('warn', 'topic matches UPSTREAM_TOPICS but no UPSTREAM_FORMAT entry: not consumed', { topic: t });
      this.#unformatted.add(t);
      return false;
    });
  }

  /** New partitions, assigned once their start position is known (a failure leaves them new for the next refresh). */
  async #start(consumer: Consumer, fresh: readonly Assigned[]): Promise<void> {
    if (fresh.length === 0) return;
    const group = await groupOffsets(consumer, fresh.filter((a) => !this.#stored.has(positionKey(a.topic, a.partition))));
    const earliest = await offsetsAt(consumer, fresh, 'earliest');
    for (const a of fresh) {
      const { next, by } = startOffset(this.#stored.get(positionKey(a.topic, a.partition))?.next, group.get(a.topic)?.[a.partition] ?? -1n, earliest.get(a.topic)?.[a.partition] ?? 0n);
      a.next = next;
      this.#parts.set(positionKey(a.topic, a.partition), a);
      this.#log('info', 'partition assigned', { topic: a.topic, partition: a.partition, from: a.next, by });
    }
  }

  /** The assigned partitions by the broker that leads them: one fetch each. */
  byLeader(): Map<number, Assigned[]> {
    const out = new Map<number, Assigned[]>();
    for (const a of this.#parts.values()) {
      const list = out.get(a.leader);
      if (list === undefined) out.set(a.leader, [a]);
      else list.push(a);
    }
    return out;
  }

  /** Moves each partition past the messages stored; returns the partitions moved. */
  advance(messages: readonly Pick<PositionedMessage, 'topic' | 'partition' | 'next'>[]): Assigned[] {
    const moved = new Map<string, Assigned>();
    for (const m of messages) {
      const a = this.get(m.topic, m.partition);
      if (a === undefined) continue;
      a.next = m.next;
      moved.set(positionKey(m.topic, m.partition), a);
    }
    return [...moved.values()];
  }

  /**
   * Moves every partition to its committed position, once the store has read them back after a
   * failure that leaves it unsure whether its last transaction committed (the log store).
   */
  resume(stored: ReadonlyMap<string, UpstreamPosition>): void {
    this.#stored = stored;
    for (const [key, a] of this.#parts) {
      const p = stored.get(key);
      if (p !== undefined && p.next !== a.next) {
        this.#log('info', 'partition moved to its committed position', { topic: a.topic, partition: a.partition, from: a.next, to: p.next });
        a.next = p.next;
      }
    }
  }

  caughtUp(): boolean {
    return caughtUp(this.all());
  }

  /** Messages behind the high watermark, for each partition a fetch has seen. */
  lags(): { topic: string; partition: number; messages: number }[] {
    return this.all().filter((a) => a.highWatermark >= 0n).map((a) => ({ topic: a.topic, partition: a.partition, messages: Number(a.highWatermark > a.next ? a.highWatermark - a.next : 0n) }));
  }
}
