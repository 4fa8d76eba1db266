// stream2science's store on the science log in shared mode (UPSTREAM_INSTANCE_ID): instances on
// several hosts share the upstream partitions through the upstream cluster's consumer group, and
// each holds a log writer per upstream partition it was given, of transactional id
// fink-stream2science-<group>-<topic>-<partition>.
//
// The upstream group's fencing does not reach our cluster: an instance that lost a partition upstream
// does not know it until its next heartbeat, and may be in the middle of a transaction for it. The
// transactional id per partition makes that harmless: the new owner opens its writer of the partition
// first (which aborts any open transaction of the old one and fences it: its next send or commit is
// refused), and only then reads the partition's position, once the positions topic is stable. So the
// position it starts from is the last one any owner committed, and no earlier owner can commit after
// it. A transaction holds the alerts and the position of one partition only, so that fencing one
// partition's writer loses nothing of another's (docs/architecture.md, Stream2science: shared mode).
//
// The position records are those of the single-instance store (log-positions.ts): one key per group,
// topic and partition, so that a group moves between the two modes keeping its positions.
import { classifyKafkaError, unreachableError } from '../kafka/errors.ts';
import { partitionOf } from '../kafka/partitioner.ts';
import { FencedError, type Message } from '../kafka/transactional-session.ts';
import { positionRecordKey, positionRecordValue, readLogPositions } from './log-positions.ts';
import type { ScienceLogSettings } from './log-settings.ts';
import { preparePositionsTopic, type LogTopic } from './log-topics.ts';
import { ScienceLogWriter } from './log-writer.ts';
import { positionKey, type AppliedMessages, type PositionedMessage, type UpstreamStore } from './positions.ts';
import { alertBytes, type NewAlert, type UpstreamPosition } from './store.ts';

/** The transactional id of the writer of one upstream partition: whoever holds the partition holds the id. */
export function partitionTransactionalId(group: string, topic: string, partition: number): string {
  return `fink-stream2science-${group}-${topic}-${partition}`;
}

export interface PartitionRef {
  topic: string;
  partition: number;
}

interface Held extends PartitionRef {
  writer: ScienceLogWriter;
  /** The epoch of the partition's position when taken: a position written later keeps at least it. */
  epoch: number;
}

/** `messages` by partition (positionKey), each partition's in their order. */
export function byPartition<T extends PartitionRef>(messages: readonly T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const m of messages) {
    const key = positionKey(m.topic, m.partition);
    const list = out.get(key);
    if (list === undefined) out.set(key, [m]);
    else list.push(m);
  }
  return out;
}

export class SharedLogPositionStore implements UpstreamStore {
  readonly #settings: ScienceLogSettings;
  readonly #topicName: string;
  readonly #group: string;
  readonly #held = new Map<string, Held>();
  /** Partitions whose writer a newer one fenced, dropped since the caller last asked. */
  #fenced: PartitionRef[] = [];
  #topic: LogTopic | undefined;

  constructor(settings: ScienceLogSettings, positionsTopic: string, group: string) {
    this.#settings = settings;
    this.#topicName = positionsTopic;
    this.#group = group;
  }

  /** Nothing is held before the group gives partitions: the positions topic prepared, no position. */
  async positions(): Promise<Map<string, UpstreamPosition>> {
    try {
      this.#topic ??= await preparePositionsTopic(this.#settings, this.#topicName, () => {});
    } catch (err) {
      if (classifyKafkaError(err) === 'unreachable') throw unreachableError(this.#settings.connection.bootstrapBrokers, err, { who: 'the science log\'s Kafka', advice: 'check DISTRIBUTION_SERVERS (SCIENCE_STORE=kafka), or start it with \'npx fink_kafka start\'' });
      throw err;
    }
    return new Map();
  }

  /** The partitions held, by positionKey. */
  held(): Set<string> {
    return new Set(this.#held.keys());
  }

  /**
   * Takes partitions: opens each one's writer (fencing any earlier owner and ending its open
   * transaction), then reads their committed positions. On a failure none of them is held.
   */
  async take(parts: readonly PartitionRef[]): Promise<Map<string, UpstreamPosition>> {
    const fresh = parts.filter((p) => !this.#held.has(positionKey(p.topic, p.partition)));
    if (fresh.length === 0) return new Map();
    this.#topic ??= await preparePositionsTopic(this.#settings, this.#topicName, () => {});
    const taken: Held[] = fresh.map((p) => ({ ...p, epoch: 0, writer: new ScienceLogWriter(this.#settings, { role: 'stream2science', transactionalId: partitionTransactionalId(this.#group, p.topic, p.partition) }) }));
    try {
      // Sending nothing opens the session: the earlier owner is fenced before anything is read.
      await Promise.all(taken.map((h) => h.writer.send([], [])));
      const all = await readLogPositions(this.#settings.connection, this.#topicName, this.#group);
      const out = new Map<string, UpstreamPosition>();
      for (const h of taken) {
        const key = positionKey(h.topic, h.partition);
        const p = all.get(key);
        if (p !== undefined) out.set(key, p);
        h.epoch = p?.epoch ?? 0;
        this.#held.set(key, h);
      }
      return out;
    } catch (err) {
      await Promise.all(taken.map((h) => h.writer.close().catch(() => {})));
      throw err;
    }
  }

  /** Gives partitions up: their writers closed (an open transaction aborted); nothing of theirs is written after. */
  async release(parts: readonly PartitionRef[]): Promise<void> {
    const going = parts.map((p) => positionKey(p.topic, p.partition)).filter((k) => this.#held.has(k));
    const writers = going.map((k) => this.#held.get(k)!.writer);
    for (const k of going) this.#held.delete(k);
    await Promise.all(writers.map((w) => w.close().catch(() => {})));
  }

  /** Each partition's messages in transactions of its own (its alerts and its position), the partitions side by side. */
  async apply(messages: readonly PositionedMessage[], epoch: number): Promise<AppliedMessages> {
    const groups = [...byPartition(messages)].map(([key, list]) => {
      const held = this.#held.get(key);
      if (held === undefined) throw new Error(`stream2science applied messages of ${list[0]!.topic}/${list[0]!.partition}, which this instance does not hold`);
      return { held, list };
    });
    const results = await Promise.allSettled(groups.map(({ held, list }) => this.#applyPartition(held, list, Math.max(epoch, held.epoch))));
    const failed = results.find((r) => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    const done: AppliedMessages = { inserted: 0, transactions: 0 };
    for (const r of results) {
      if (r.status !== 'fulfilled') continue;
      done.inserted += r.value.inserted;
      done.transactions += r.value.transactions;
    }
    return done;
  }

  /** One partition's messages in order, in transactions of at most transactionBytes of alerts (a message whole in one). */
  async #applyPartition(held: Held, messages: readonly PositionedMessage[], epoch: number): Promise<AppliedMessages> {
    const done: AppliedMessages = { inserted: 0, transactions: 0 };
    let alerts: NewAlert[] = [];
    let bytes = 0;
    let next: bigint | undefined;
    const commit = async (): Promise<void> => {
      if (next === undefined) return;
      try {
        await held.writer.send(alerts, [this.#record(held, next, epoch)]);
        await held.writer.commit();
      } catch (err) {
        await held.writer.abort();
        throw err;
      }
      done.inserted += alerts.length;
      done.transactions++;
      alerts = [];
      bytes = 0;
      next = undefined;
    };
    for (const m of messages) {
      const size = alertBytes(m.alerts);
      if (alerts.length > 0 && bytes + size > this.#settings.transactionBytes) await commit();
      alerts.push(...m.alerts);
      bytes += size;
      next = m.next;
    }
    await commit();
    held.epoch = epoch;
    return done;
  }

  /**
   * After a failed apply: each writer's session opened again, which says FencedError for a
   * partition a newer owner took (dropped, see `fenced`); then the held partitions' positions.
   */
  async afterFailure(): Promise<Map<string, UpstreamPosition>> {
    for (const [key, held] of [...this.#held]) {
      try {
        await held.writer.send([], []);
      } catch (err) {
        if (!(err instanceof FencedError) && classifyKafkaError(err) !== 'fenced') throw err;
        this.#held.delete(key);
        this.#fenced.push({ topic: held.topic, partition: held.partition });
        await held.writer.close().catch(() => {});
      }
    }
    if (this.#held.size === 0) return new Map();
    const all = await readLogPositions(this.#settings.connection, this.#topicName, this.#group);
    return new Map([...all].filter(([key]) => this.#held.has(key)));
  }

  /** The partitions dropped because a newer owner fenced their writer, since the last call. */
  takeFenced(): PartitionRef[] {
    const out = this.#fenced;
    this.#fenced = [];
    return out;
  }

  async close(): Promise<void> {
    await this.release([...this.#held.values()]);
  }

  #record(held: Held, next: bigint, epoch: number): Message {
    if (this.#topic === undefined) throw new Error('take() opens a partition before apply()');
    const key = positionRecordKey(this.#group, held.topic, held.partition);
    return { topic: this.#topic.topic, partition: partitionOf(key.toString('utf8'), this.#topic.partitions), key, value: positionRecordValue(next, epoch) };
  }
}
