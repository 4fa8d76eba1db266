// `fink db stats` with SCIENCE_STORE=kafka: what the science log holds, per survey, from Kafka's own
// bookkeeping (offsets, log sizes) and a few records read at each end of each partition.
//
// What is counted, honestly:
// - `offsets`: the end (last stable offset) minus the start of every partition, summed. That is
//   every committed alert, plus one transaction marker per partition per transaction, plus the
//   records of aborted transactions: an upper bound, exact only by reading the log.
// - `records` (with `exact`): the committed alerts, counted by reading the whole log at
//   read_committed (every byte of it goes over the network: a night's worth takes minutes).
// - `bytes`: the size of the partitions' logs on their leaders (one copy: the replicas hold as
//   much again each), markers, aborted records and segment indexes aside.
// - `oldest` / `newest`: the timestamps of the first and the last committed record (a writer stamps
//   each record with the time it wrote it, its ingestedMs).
import { FetchIsolationLevels, ListOffsetTimestamps, type Consumer } from '@platformatic/kafka';
import { SURVEYS, type Survey } from '../alert/survey.ts';
import { closeQuietly, withAdmin, type KafkaConnection } from '../kafka/client-options.ts';
import { fetchPartitions, newPartitionReader, readTopic } from '../kafka/topic-reader.ts';
import { schemaTopic, scienceTopic } from './log-format.ts';

export interface LogTopicStats {
  topic: string;
  partitions: number;
  replication: number;
  offsets: number;
  /** Committed records, when counted (`exact`). */
  records?: number;
  bytes: number;
  /** ms since the epoch; null for an empty topic. */
  oldest: number | null;
  newest: number | null;
}

export interface LogStats {
  store: 'kafka';
  servers: string[];
  /** Per survey whose topic exists. */
  surveys: Partial<Record<Survey, LogTopicStats>>;
  /** The schemas topic, if it exists: its offsets count every schema written (compaction keeps one a fingerprint). */
  schemas: { topic: string; offsets: number; records?: number } | null;
}

const PARTITION_MAX_BYTES = 1 << 20;

interface PartitionLayout {
  id: string;
  leaders: number[];
  replication: number;
}

async function layout(consumer: Consumer, topic: string): Promise<PartitionLayout> {
  const meta = await consumer.metadata({ topics: [topic], forceUpdate: true });
  const described = meta.topics.get(topic)!;
  return { id: described.id, leaders: described.partitions.map((p) => p.leader), replication: described.partitions[0]?.replicas.length ?? 0 };
}

async function offsets(consumer: Consumer, topic: string): Promise<{ starts: bigint[]; ends: bigint[] }> {
  const starts = (await consumer.listOffsets({ topics: [topic], timestamp: ListOffsetTimestamps.EARLIEST })).get(topic) ?? [];
  const ends = (await consumer.listOffsets({ topics: [topic], isolationLevel: FetchIsolationLevels.READ_COMMITTED })).get(topic) ?? [];
  return { starts, ends };
}

/** The timestamps of the committed records of [from, end) of a partition, read in order. */
async function timestamps(consumer: Consumer, topic: string, where: { id: string; leader: number; partition: number }, from: bigint, end: bigint, stopAtFirst: boolean): Promise<bigint[]> {
  const out: bigint[] = [];
  for (let at = from; at < end; ) {
    const [part] = await fetchPartitions(consumer, where.leader, [{ topic, topicId: where.id, partition: where.partition, offset: at }], { maxWaitTime: 100, partitionMaxBytes: PARTITION_MAX_BYTES });
    if (part === undefined || part.error !== 'NONE' || part.next <= at) break;
    for (const m of part.messages) if (m.offset < end) out.push(m.timestamp);
    if (stopAtFirst && out.length > 0) break;
    at = part.next;
  }
  return out;
}

/**
 * The first and last committed timestamps of a partition: its first committed record from the
 * start; its last from a few offsets before the end, further back while that window holds none
 * (markers and aborted records only).
 */
async function ends(consumer: Consumer, topic: string, where: { id: string; leader: number; partition: number }, start: bigint, end: bigint): Promise<[bigint, bigint] | undefined> {
  const [first] = await timestamps(consumer, topic, where, start, end, true);
  if (first === undefined) return undefined;
  for (let back = 4n; ; back *= 4n) {
    const from = end - back > start ? end - back : start;
    const found = await timestamps(consumer, topic, where, from, end, false);
    if (found.length > 0) return [first, found[found.length - 1]!];
    if (from === start) return [first, first];
  }
}

/** The bytes of each partition's log on its leader. */
async function leaderBytes(connection: KafkaConnection, topic: string, leaders: readonly number[]): Promise<number> {
  return withAdmin(connection, async (admin) => {
    const brokers = await admin.describeLogDirs({ topics: [{ name: topic, partitions: leaders.map((_, p) => p) }] });
    let total = 0n;
    for (const broker of brokers) {
      for (const dir of broker.results) for (const t of dir.topics) for (const p of t.partitions) if (t.name === topic && leaders[p.partitionIndex] === broker.broker && !p.isFutureKey) total += p.partitionSize;
    }
    return Number(total);
  });
}

async function countRecords(connection: KafkaConnection, topic: string): Promise<number> {
  let n = 0;
  for await (const m of readTopic(connection, topic, { partitionMaxBytes: 16 << 20 })) if (m.value !== null) n++;
  return n;
}

async function topicStats(connection: KafkaConnection, consumer: Consumer, topic: string, exact: boolean): Promise<LogTopicStats> {
  const { id, leaders, replication } = await layout(consumer, topic);
  const { starts, ends: stable } = await offsets(consumer, topic);
  let total = 0n;
  let oldest: bigint | undefined;
  let newest: bigint | undefined;
  for (let p = 0; p < leaders.length; p++) {
    const start = starts[p] ?? 0n;
    const end = stable[p] ?? 0n;
    total += end - start;
    const found = end > start ? await ends(consumer, topic, { id, leader: leaders[p]!, partition: p }, start, end) : undefined;
    if (found === undefined) continue;
    if (oldest === undefined || found[0] < oldest) oldest = found[0];
    if (newest === undefined || found[1] > newest) newest = found[1];
  }
  return {
    topic,
    partitions: leaders.length,
    replication,
    offsets: Number(total),
    ...(exact ? { records: await countRecords(connection, topic) } : {}),
    bytes: await leaderBytes(connection, topic, leaders),
    oldest: oldest === undefined ? null : Number(oldest),
    newest: newest === undefined ? null : Number(newest),
  };
}

/** The log's figures; `exact` also counts the committed records by reading them all. */
export async function logStats(connection: KafkaConnection, prefix: string, options: { exact?: boolean } = {}): Promise<LogStats> {
  const exact = options.exact === true;
  const existing = new Set(await withAdmin(connection, (admin) => admin.listTopics()));
  const stats: LogStats = { store: 'kafka', servers: connection.bootstrapBrokers, surveys: {}, schemas: null };
  const consumer = newPartitionReader(connection, 'fink-db-stats');
  try {
    for (const survey of SURVEYS) {
      const topic = scienceTopic(prefix, survey);
      if (existing.has(topic)) stats.surveys[survey] = await topicStats(connection, consumer, topic, exact);
    }
    const schemas = schemaTopic(prefix);
    if (existing.has(schemas)) {
      const { starts, ends: stable } = await offsets(consumer, schemas);
      const total = stable.reduce((sum, end, p) => sum + end - (starts[p] ?? 0n), 0n);
      stats.schemas = { topic: schemas, offsets: Number(total), ...(exact ? { records: await countRecords(connection, schemas) } : {}) };
    }
  } finally {
    await closeQuietly(consumer);
  }
  return stats;
}
