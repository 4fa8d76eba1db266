// Where stream2science stands upstream when the science store is the log (SCIENCE_STORE=kafka): a
// compacted topic of our cluster (UPSTREAM_POSITIONS_TOPIC), one record per upstream group, topic
// and partition whose value is the next offset and its epoch, written in the same Kafka transaction
// as the alerts of the messages it moves past. A read_committed reader then sees an upstream
// message's alerts if and only if it sees the position after it: every upstream message is in the
// log once whatever is killed and when (docs/architecture.md, Stream2science: exactly once).
//
// The writer's transactional id is the group's (fink-stream2science-<group>): a second instance of
// the group starting fences the first, whose open transaction the coordinator aborts, and whose
// next commit fails. Positions are read back only once the writer's session is open, so that any
// transaction of an earlier instance is committed or aborted before they are read.
import { setTimeout as sleep } from 'node:timers/promises';
import { FinkError } from '../errors.ts';
import { classifyKafkaError, unreachableError } from '../kafka/errors.ts';
import type { KafkaConnection } from '../kafka/client-options.ts';
import { closeQuietly } from '../kafka/client-options.ts';
import { partitionOf } from '../kafka/partitioner.ts';
import { newPartitionReader, readTopic } from '../kafka/topic-reader.ts';
import type { Message } from '../kafka/transactional-session.ts';
import { FetchIsolationLevels } from '@platformatic/kafka';
import type { ScienceLogSettings } from './log-settings.ts';
import { preparePositionsTopic, type LogTopic } from './log-topics.ts';
import { ScienceLogWriter } from './log-writer.ts';
import { positionKey, type AppliedMessages, type PositionedMessage, type UpstreamStore } from './positions.ts';
import { alertBytes, type NewAlert, type UpstreamPosition } from './store.ts';

/** The transactional id of a group's writer: one per group, so that a second instance fences the first. */
export function stream2scienceTransactionalId(group: string): string {
  return `fink-stream2science-${group}`;
}

/** A position's record key: readable by Kafka's own tools (kcat, kafka-console-consumer). */
export function positionRecordKey(group: string, topic: string, partition: number): Buffer {
  return Buffer.from(JSON.stringify([group, topic, partition]), 'utf8');
}

export function positionRecordValue(next: bigint, epoch: number): Buffer {
  return Buffer.from(JSON.stringify({ next: next.toString(), epoch }), 'utf8');
}

/** A position record of `group` (undefined: another group's), or a clear error naming where it is. */
export function decodePositionRecord(group: string, key: Buffer | null, value: Buffer | null, where: string): UpstreamPosition | null | undefined {
  let parsedKey: unknown;
  try {
    parsedKey = JSON.parse(key?.toString('utf8') ?? 'null');
  } catch {
    parsedKey = undefined;
  }
  if (!Array.isArray(parsedKey) || parsedKey.length !== 3 || typeof parsedKey[0] !== 'string' || typeof parsedKey[1] !== 'string' || !Number.isInteger(parsedKey[2])) {
    throw new FinkError(`${where}: key ${JSON.stringify(key?.toString('utf8') ?? null)} is not a stream2science position key ([group, topic, partition])`);
  }
  const [owner, topic, partition] = parsedKey as [string, string, number];
  if (owner !== group) return undefined;
  // A tombstone: the position deleted (by an operator); the partition starts as a new one.
  if (value === null) return null;
  let parsed: { next?: unknown; epoch?: unknown };
  try {
    parsed = JSON.parse(value.toString('utf8')) as typeof parsed;
  } catch {
    parsed = {};
  }
  if (typeof parsed.next !== 'string' || !/^\d+$/.test(parsed.next) || !Number.isInteger(parsed.epoch)) {
    throw new FinkError(`${where}: the position of ${group} ${topic}/${partition} is not {"next": "<offset>", "epoch": <int>}: ${value.toString('utf8').slice(0, 200)}`);
  }
  return { topic, partition, next: BigInt(parsed.next), epoch: parsed.epoch as number };
}

/** How long reading the positions waits for the transactions of other writers of the topic to end. */
const STABLE_DEADLINE_MS = 120_000;

/**
 * The committed positions of `group`, by positionKey: the last record of each key (a key is on one
 * partition, in offset order). Everything up to the topic's end as it is when called is read, once
 * it is stable: the caller's own transactions are complete (its session is open), another writer's
 * end within the transaction timeout.
 */
export async function readLogPositions(connection: KafkaConnection, topic: string, group: string): Promise<Map<string, UpstreamPosition>> {
  await waitStable(connection, topic);
  const positions = new Map<string, UpstreamPosition>();
  for await (const m of readTopic(connection, topic, { settleMs: 0 })) {
    const p = decodePositionRecord(group, m.key, m.value, `${topic}[${m.partition}]@${m.offset}`);
    if (p === undefined) continue;
    if (p === null) {
      const [, t, part] = JSON.parse(m.key!.toString('utf8')) as [string, string, number];
      positions.delete(positionKey(t, part));
    } else {
      positions.set(positionKey(p.topic, p.partition), p);
    }
  }
  return positions;
}

/** Waits until every partition's last stable offset reaches its end as it is now: all written up to here is decided. */
async function waitStable(connection: KafkaConnection, topic: string): Promise<void> {
  const consumer = newPartitionReader(connection, 'fink-stream2science-positions');
  try {
    const ends = (await consumer.listOffsets({ topics: [topic], isolationLevel: FetchIsolationLevels.READ_UNCOMMITTED })).get(topic) ?? [];
    const deadline = Date.now() + STABLE_DEADLINE_MS;
    for (let wait = 50; ; wait = Math.min(1000, wait * 2)) {
      const stable = (await consumer.listOffsets({ topics: [topic], isolationLevel: FetchIsolationLevels.READ_COMMITTED })).get(topic) ?? [];
      if (ends.every((end, p) => (stable[p] ?? 0n) >= end)) return;
      if (Date.now() > deadline) throw new FinkError(`the positions topic ${topic} has a transaction open for over ${STABLE_DEADLINE_MS / 1000} s (stable ${stable.join(',')}, end ${ends.join(',')}): its positions cannot be read yet`);
      await sleep(wait);
    }
  } finally {
    await closeQuietly(consumer);
  }
}

/**
 * stream2science's store on the science log: messages applied in their order, in transactions of at
 * most `transactionBytes` of alerts (a message whole in one), each with the positions of the
 * messages it holds. The log keeps every write: all alerts count as inserted.
 */
export class LogPositionStore implements UpstreamStore {
  readonly #settings: ScienceLogSettings;
  readonly #writer: ScienceLogWriter;
  readonly #topicName: string;
  readonly #group: string;
  #topic: LogTopic | undefined;

  constructor(settings: ScienceLogSettings, positionsTopic: string, group: string) {
    this.#settings = settings;
    this.#topicName = positionsTopic;
    this.#group = group;
    this.#writer = new ScienceLogWriter(settings, { role: 'stream2science', transactionalId: stream2scienceTransactionalId(group) });
  }

  get transactionalId(): string {
    return this.#writer.transactionalId;
  }

  /**
   * Opens the writer's session (which completes or aborts any transaction an earlier instance of
   * the group left, and fences that instance), then reads the positions back.
   */
  async positions(): Promise<Map<string, UpstreamPosition>> {
    try {
      return await this.#read();
    } catch (err) {
      // At start a cluster that does not answer is said in one line (later, afterFailure's errors
      // stay Kafka's own: the service waits the outage out).
      if (classifyKafkaError(err) === 'unreachable') throw unreachableError(this.#settings.connection.bootstrapBrokers, err, { who: 'the science log\'s Kafka', advice: 'check DISTRIBUTION_SERVERS (SCIENCE_STORE=kafka), or start it with \'npx fink_kafka start\'' });
      throw err;
    }
  }

  async apply(messages: readonly PositionedMessage[], epoch: number): Promise<AppliedMessages> {
    const done: AppliedMessages = { inserted: 0, transactions: 0 };
    let alerts: NewAlert[] = [];
    let bytes = 0;
    const moved = new Map<string, UpstreamPosition>();
    const commit = async (): Promise<void> => {
      if (alerts.length === 0 && moved.size === 0) return;
      // Not the writer's write(): its errors stay Kafka's own, for the service to tell an outage
      // (waited out, then the positions read back) from the rest.
      try {
        await this.#writer.send(alerts, this.#records([...moved.values()]));
        await this.#writer.commit();
      } catch (err) {
        await this.#writer.abort();
        throw err;
      }
      done.inserted += alerts.length;
      done.transactions++;
      alerts = [];
      bytes = 0;
      moved.clear();
    };
    for (const m of messages) {
      const size = alertBytes(m.alerts);
      if (alerts.length > 0 && bytes + size > this.#settings.transactionBytes) await commit();
      alerts.push(...m.alerts);
      bytes += size;
      moved.set(positionKey(m.topic, m.partition), { topic: m.topic, partition: m.partition, next: m.next, epoch });
    }
    await commit();
    return done;
  }

  /** After a failed apply the commit may have happened or not: the session opened again and the positions read back say which. */
  afterFailure(): Promise<Map<string, UpstreamPosition>> {
    return this.#read();
  }

  async #read(): Promise<Map<string, UpstreamPosition>> {
    this.#topic ??= await preparePositionsTopic(this.#settings, this.#topicName, () => {});
    // Sending nothing opens the session and begins a transaction that holds nothing yet.
    await this.#writer.send([], []);
    return readLogPositions(this.#settings.connection, this.#topicName, this.#group);
  }

  close(): Promise<void> {
    return this.#writer.close();
  }

  #records(positions: readonly UpstreamPosition[]): Message[] {
    if (this.#topic === undefined) throw new Error('positions() opens the store before apply()');
    const { topic, partitions } = this.#topic;
    return positions.map((p) => {
      const key = positionRecordKey(this.#group, p.topic, p.partition);
      return { topic, partition: partitionOf(key.toString('utf8'), partitions), key, value: positionRecordValue(p.next, p.epoch) };
    });
  }
}
