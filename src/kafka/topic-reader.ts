// Reading a topic as a read_committed consumer does, partition by partition through Fetch requests:
// records of aborted transactions are dropped here, by Kafka's own rule, and "the end" is the last
// stable offset seen at start, so that a reader of a topic written transactionally knows when it
// has read everything.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Consumer, FetchIsolationLevels, IS_TRANSACTIONAL, ListOffsetTimestamps, protocolErrorsCodesById, type RecordsBatch } from '@platformatic/kafka';
import { FinkError } from '../errors.ts';
import { streamLogger, type Logger } from '../log.ts';
import { committedBatches, lastOffset } from './aborted-transactions.ts';
import { overrideApi } from './api-override.ts';
import { boundedFetchParser, BOUNDED_FETCH_VERSIONS, kRefused, type RefusedBatch } from './bounded-fetch.ts';
import { FALLBACK_INFLATE_LIMIT, INFLATE_FACTOR } from './bounded-inflate.ts';
import { closeQuietly, type KafkaConnection } from './client-options.ts';
import { isUnknownTopic } from './errors.ts';
import { messageLimits } from './topics.ts';

export interface ConsumedMessage {
  topic: string;
  partition: number;
  offset: bigint;
  timestamp: bigint;
  key: Buffer | null;
  value: Buffer | null;
  /** Written in a (committed) transaction. */
  transactional: boolean;
  /** The compression of the record batch it came in, as the producer chose it. */
  codec: Codec;
}

/** Record batch compression, by the id in the low bits of a batch's attributes. */
const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
export type Codec = (typeof CODECS)[number] | 'unknown';
const CODEC_BITS = 0x07;

export interface ReadOptions {
  /** Stop at the end seen when reading starts (default), or keep following new messages. */
  follow?: boolean;
  signal?: AbortSignal;
  /** Per partition and fetch; large alerts need room. */
  partitionMaxBytes?: number;
  /** How long to wait for just-committed transactions to become readable (see stableEnds). */
  settleMs?: number;
  /**
   * A live view, not a full read: start at most this many offsets before each partition's stable
   * end and, while following, fetch every 200 ms only, first jumping ahead any partition that is
   * further behind than that. A follower then reads at most `tail` messages a partition per 200 ms,
   * however fast the topic fills.
   */
  tail?: number;
  /** Told each partition's stable end whenever the reader asks for them (with `tail`, every 200 ms while following). */
  onStableEnds?: (ends: readonly bigint[]) => void;
  /** Where a refused record batch is said (default: stderr). */
  log?: Logger;
}

const { READ_COMMITTED, READ_UNCOMMITTED } = FetchIsolationLevels;

export class TopicMissingError extends FinkError {
  constructor(message: string) {
    super(message, { code: 'FINK_TOPIC_MISSING' });
    this.name = 'TopicMissingError';
  }
}

type Callback = (error: Error | null, result?: unknown) => void;
interface FetchedRecords {
  records?: RecordsBatch[] | null;
  [kAsSent]?: RecordsBatch[] | null;
  [kRefused]?: RefusedBatch[];
}

const kAsSent = Symbol('batches as the broker sent them');

/**
 * Workaround of @platformatic/kafka 2.12.1: its Consumer.fetch at read_committed filters aborted
 * records itself, with one range per producer id: when a response holds several aborted
 * transactions of one producer (a transactional id keeps its producer id across restarts and
 * fencing), it drops everything from the last one's first offset up to the last abort marker,
 * committed batches included. So each partition of a Fetch response keeps the batches as they
 * arrived, before that filter replaces them, and committedBatches applies Kafka's rule to them.
 * Remove this (and read `records` directly) once Consumer.fetch delivers what Kafka's own consumer
 * does for such a layout: test/kafka/library-workarounds.test.ts then fails and says so.
 * The response itself is read by bounded-fetch.ts (the second workaround, of the library's
 * unbounded inflation) with each topic's inflation limit from `limits`.
 */
function keepBatchesAsSent(consumer: Consumer, limits: InflateLimits): void {
  const parser = boundedFetchParser((topicId) => limits.byId.get(topicId) ?? FALLBACK_INFLATE_LIMIT);
  overrideApi(consumer, 'Fetch', (api) => {
    const [first, last] = BOUNDED_FETCH_VERSIONS;
    const bounded = api.version >= first && api.version <= last;
    const wrapped = (connection: unknown, ...args: unknown[]): void => {
      const done = args.pop() as Callback;
      const target = connection as Sender;
      // The library's API calls connection.send with its own parser: this one is handed ours.
      const via: Sender = bounded ? Object.assign(Object.create(target) as Sender, { send: (...a: unknown[]) => target.send(...a.slice(0, 3), parser, ...a.slice(4)) }) : target;
      api(via, ...args, (err: Error | null, result?: unknown) => {
        const response = result as { responses?: { partitions: FetchedRecords[] }[] } | undefined;
        for (const topic of response?.responses ?? []) for (const part of topic.partitions) part[kAsSent] = part.records;
        done(err, result);
      });
    };
    return Object.assign(wrapped, { version: api.version });
  });
}

interface Sender {
  send(...args: unknown[]): void;
}

/** Each topic's inflation limit, by topic id, learnt on its first fetch. */
interface InflateLimits {
  connection: KafkaConnection;
  byId: Map<string, number>;
}
const inflateLimits = new WeakMap<Consumer, InflateLimits>();

/** INFLATE_FACTOR times each topic's max.message.bytes, read once per topic; the fallback limit when it cannot be read. */
async function learnLimits(consumer: Consumer, wanted: readonly FetchPosition[], log: Logger): Promise<void> {
  const limits = inflateLimits.get(consumer);
  if (limits === undefined) return;
  const unknown = new Map<string, string>();
  for (const w of wanted) if (!limits.byId.has(w.topicId)) unknown.set(w.topic, w.topicId);
  if (unknown.size === 0) return;
  const found = await messageLimits(limits.connection, [...unknown.keys()]).catch((err: unknown) => {
    log('warn', "could not read the topics' max.message.bytes: a record batch may inflate to the fallback limit", { topics: [...unknown.keys()].join(','), limit: FALLBACK_INFLATE_LIMIT, error: (err as Error).message });
    return new Map<string, number>();
  });
  for (const [topic, id] of unknown) {
    const bytes = found.get(topic);
    limits.byId.set(id, bytes === undefined ? FALLBACK_INFLATE_LIMIT : INFLATE_FACTOR * bytes);
  }
}

/**
 * A consumer for reading partitions at positions the caller chooses, at read_committed, with the
 * Fetch workaround above installed. A group id is required by the client but never joined.
 */
export function newPartitionReader(connection: KafkaConnection, clientId = 'fink-reader', groupId = `fink-reader-${randomBytes(6).toString('hex')}`): Consumer {
  const consumer = new Consumer({
    clientId,
    groupId,
    ...connection,
    isolationLevel: READ_COMMITTED,
    retries: 10,
    retryDelay: 500,
    timeout: 30_000,
  });
  const limits: InflateLimits = { connection, byId: new Map() };
  inflateLimits.set(consumer, limits);
  keepBatchesAsSent(consumer, limits);
  return consumer;
}

/** A partition to fetch from, at `offset`. */
export interface FetchPosition {
  topic: string;
  topicId: string;
  partition: number;
  offset: bigint;
}

/** What one Fetch brought for a partition: its committed messages from the position on, and where to fetch next. */
export interface FetchedPartition {
  topic: string;
  partition: number;
  /** The broker's error name for this partition (`NONE` when it answered). */
  error: string;
  messages: ConsumedMessage[];
  /** The position after what was fetched (control batches, aborted and refused ones move it too). */
  next: bigint;
  highWatermark: bigint;
}

/**
 * One Fetch from `node` (the leader of every partition asked), at read_committed, aborted
 * transactions dropped by Kafka's rule. Partitions come back in the response's order, each with
 * its messages in offset order. A batch that inflates past INFLATE_FACTOR times its topic's
 * max.message.bytes is refused with a line in `log` (default: stderr) and read past.
 */
export async function fetchPartitions(consumer: Consumer, node: number, wanted: readonly FetchPosition[], options: { maxWaitTime: number; partitionMaxBytes: number; log?: Logger }): Promise<FetchedPartition[]> {
  const log = options.log ?? streamLogger();
  await learnLimits(consumer, wanted, log);
  const byTopic = new Map<string, FetchPosition[]>();
  for (const w of wanted) {
    let list = byTopic.get(w.topicId);
    if (list === undefined) byTopic.set(w.topicId, (list = []));
    list.push(w);
  }
  const response = await consumer.fetch({
    node,
    topics: [...byTopic].map(([topicId, list]) => ({ topicId, partitions: list.map((w) => ({ partition: w.partition, currentLeaderEpoch: -1, fetchOffset: w.offset, lastFetchedEpoch: -1, partitionMaxBytes: options.partitionMaxBytes })) })),
    isolationLevel: READ_COMMITTED,
    maxWaitTime: options.maxWaitTime,
    minBytes: 1,
    maxBytes: 64 << 20,
  });
  const out: FetchedPartition[] = [];
  for (const t of response.responses) {
    const asked = byTopic.get(t.topicId) ?? [];
    for (const part of t.partitions) {
      const w = asked.find((a) => a.partition === part.partitionIndex);
      if (w === undefined) continue;
      const error = protocolErrorsCodesById[part.errorCode] ?? `error code ${part.errorCode}`;
      const messages: ConsumedMessage[] = [];
      for (const r of (part as FetchedRecords)[kRefused] ?? []) log('warn', 'record batch refused: it inflates past its limit; reading on after it', { topic: w.topic, partition: w.partition, offset: r.firstOffset, lastOffset: r.lastOffset, codec: CODECS[r.codec] ?? r.codec, size: r.size, records: r.records, limit: r.limit });
      let next = w.offset;
      if (error === 'NONE') {
        const batches = (part as FetchedRecords)[kAsSent] ?? [];
        for (const batch of committedBatches(batches, part.abortedTransactions ?? [], w.offset)) {
          const transactional = (batch.attributes & IS_TRANSACTIONAL) !== 0;
          const codec = CODECS[batch.attributes & CODEC_BITS] ?? 'unknown';
          for (const record of batch.records) {
            const offset = batch.firstOffset + BigInt(record.offsetDelta);
            if (offset < w.offset) continue;
            messages.push({ topic: w.topic, partition: w.partition, offset, timestamp: batch.firstTimestamp + record.timestampDelta, key: record.key, value: record.value, transactional, codec });
          }
        }
        const last = batches.length === 0 ? undefined : lastOffset(batches[batches.length - 1]!);
        if (last !== undefined && last >= next) next = last + 1n;
      }
      out.push({ topic: w.topic, partition: w.partition, error, messages, next, highWatermark: part.highWatermark });
    }
  }
  return out;
}

/**
 * The end of each partition for a read_committed reader. A transaction's commit markers are written
 * just after the producer's commit returns, so right after a commit the stable end lags the log's
 * end for a moment: wait up to `settleMs` for them to meet (they never do while a transaction is
 * open; then the stable end it is).
 */
async function stableEnds(consumer: Consumer, topic: string, settleMs: number): Promise<bigint[]> {
  const deadline = Date.now() + settleMs;
  for (;;) {
    const stable = (await consumer.listOffsets({ topics: [topic], isolationLevel: READ_COMMITTED })).get(topic) ?? [];
    const high = (await consumer.listOffsets({ topics: [topic], isolationLevel: READ_UNCOMMITTED })).get(topic) ?? [];
    if (stable.every((offset, p) => offset === high[p]) || Date.now() >= deadline) return stable;
    await sleep(20);
  }
}

function missing(topic: string, connection: KafkaConnection): string {
  return `topic ${topic} does not exist at ${connection.bootstrapBrokers.join(',')}: 'npx fink_kafka --list-topics' lists those that do`;
}

/** Messages of `topic` from its first offset, in offset order within each partition. */
export async function* readTopic(connection: KafkaConnection, topic: string, options: ReadOptions = {}): AsyncGenerator<ConsumedMessage> {
  const consumer = newPartitionReader(connection);
  try {
    const metadata = await consumer.metadata({ topics: [topic], forceUpdate: true }).catch((err: unknown) => {
      throw isUnknownTopic(err) ? new TopicMissingError(missing(topic, connection)) : err;
    });
    const described = metadata.topics.get(topic);
    if (described === undefined) throw new TopicMissingError(missing(topic, connection));
    const starts = (await consumer.listOffsets({ topics: [topic], timestamp: ListOffsetTimestamps.EARLIEST })).get(topic) ?? [];
    const ends = await stableEnds(consumer, topic, options.settleMs ?? 2000);
    options.onStableEnds?.(ends);
    const tail = options.tail === undefined ? undefined : BigInt(options.tail);
    const positions = described.partitions.map((_, p) => starts[p] ?? 0n);
    const keepUp = (stable: readonly bigint[]) => {
      if (tail === undefined) return;
      for (let p = 0; p < positions.length; p++) if ((stable[p] ?? 0n) - tail > positions[p]!) positions[p] = (stable[p] ?? 0n) - tail;
    };
    keepUp(ends);
    let looked = Date.now();
    const partitionMaxBytes = options.partitionMaxBytes ?? 8 << 20;
    const stopped = () => options.signal?.aborted === true;
    for (;;) {
      if (stopped()) return;
      if (tail !== undefined && options.follow === true) {
        const wait = looked + 200 - Date.now();
        if (wait > 0) await sleep(wait);
        if (stopped()) return;
        const stable = (await consumer.listOffsets({ topics: [topic], isolationLevel: READ_COMMITTED })).get(topic) ?? [];
        looked = Date.now();
        options.onStableEnds?.(stable);
        keepUp(stable);
      }
      const open = positions.map((_, p) => p).filter((p) => options.follow === true || positions[p]! < (ends[p] ?? 0n));
      if (open.length === 0) return;
      // One Fetch per leader, all its partitions at once.
      const current = await consumer.metadata({ topics: [topic] });
      const partitions = current.topics.get(topic)!.partitions;
      const byLeader = new Map<number, number[]>();
      for (const p of open) {
        const leader = partitions[p]!.leader;
        byLeader.set(leader, [...(byLeader.get(leader) ?? []), p]);
      }
      for (const [node, list] of byLeader) {
        const fetched = await fetchPartitions(consumer, node, list.map((p) => ({ topic, topicId: described.id, partition: p, offset: positions[p]! })), { maxWaitTime: options.follow === true ? 500 : 100, partitionMaxBytes, log: options.log });
        for (const part of fetched) {
          if (part.error !== 'NONE') throw new FinkError(`fetching ${topic}/${part.partition} failed: ${part.error}`, { code: 'FINK_KAFKA' });
          yield* part.messages;
          positions[part.partition] = part.next;
        }
      }
    }
  } finally {
    await closeQuietly(consumer);
  }
}
