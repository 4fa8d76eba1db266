// Reading a topic as a read_committed consumer does, partition by partition through Fetch requests:
// records of aborted transactions are dropped (the Fetch response lists them; @platformatic/kafka's
// message stream does not filter them), and "the end" is the last stable offset seen at start, so
// that a reader of a topic written transactionally knows when it has read everything.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Consumer } from '@platformatic/kafka';
import type { Config } from '../config/config.ts';
import { kafkaClientOptions } from '../kafka/client-options.ts';

export interface ConsumedMessage {
  topic: string;
  partition: number;
  offset: bigint;
  timestamp: bigint;
  key: Buffer | null;
  value: Buffer | null;
}

export interface ReadOptions {
  /** Stop at the end seen when reading starts (default), or keep following new messages. */
  follow?: boolean;
  signal?: AbortSignal;
  /** Per partition and fetch; large alerts need room. */
  partitionMaxBytes?: number;
  /** How long to wait for just-committed transactions to become readable (see stableEnds). */
  settleMs?: number;
}

const READ_COMMITTED = 1;
const EARLIEST = -2n;
const IS_TRANSACTIONAL = 0x10;
const IS_CONTROL = 0x20;

export class TopicMissingError extends Error {}

function newConsumer(config: Config): Consumer {
  // A group id is required by the client but never joined: offsets are chosen here, not committed.
  return new Consumer({
    clientId: 'fink-reader',
    groupId: `fink-reader-${randomBytes(6).toString('hex')}`,
    ...kafkaClientOptions(config),
    isolationLevel: READ_COMMITTED,
    retries: 10,
    retryDelay: 500,
    timeout: 30_000,
  });
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
    const high = (await consumer.listOffsets({ topics: [topic], isolationLevel: 0 })).get(topic) ?? [];
    if (stable.every((offset, p) => offset === high[p]) || Date.now() >= deadline) return stable;
    await sleep(20);
  }
}

/** Messages of `topic` from its first offset, in offset order within each partition. */
export async function* readTopic(config: Config, topic: string, options: ReadOptions = {}): AsyncGenerator<ConsumedMessage> {
  const consumer = newConsumer(config);
  try {
    const metadata = await consumer.metadata({ topics: [topic], forceUpdate: true }).catch((err: unknown) => {
      throw /UNKNOWN_TOPIC|does not exist/i.test(JSON.stringify(errorIds(err))) ? new TopicMissingError(`topic ${topic} does not exist`) : err;
    });
    const described = metadata.topics.get(topic);
    if (described === undefined) throw new TopicMissingError(`topic ${topic} does not exist`);
    const starts = (await consumer.listOffsets({ topics: [topic], timestamp: EARLIEST })).get(topic) ?? [];
    const ends = await stableEnds(consumer, topic, options.settleMs ?? 2000);
    const positions = described.partitions.map((_, p) => starts[p] ?? 0n);
    const partitionMaxBytes = options.partitionMaxBytes ?? 8 << 20;
    for (;;) {
      if (options.signal?.aborted === true) return;
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
        const response = await consumer.fetch({
          node,
          topics: [{ topicId: described.id, partitions: list.map((p) => ({ partition: p, currentLeaderEpoch: -1, fetchOffset: positions[p]!, lastFetchedEpoch: -1, partitionMaxBytes })) }],
          isolationLevel: READ_COMMITTED,
          maxWaitTime: options.follow === true ? 500 : 100,
          minBytes: 1,
          maxBytes: 64 << 20,
        });
        for (const t of response.responses) {
          for (const part of t.partitions) {
            if (part.errorCode !== 0) throw new Error(`fetching ${topic}/${part.partitionIndex} failed with error code ${part.errorCode}`);
            const p = part.partitionIndex;
            const batches = part.records ?? [];
            const aborted = [...(part.abortedTransactions ?? [])].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : 1));
            const abortedProducers = new Set<bigint>();
            for (const batch of batches) {
              const last = batch.firstOffset + BigInt(batch.lastOffsetDelta);
              // Kafka's rule: a producer's records are aborted from its aborted transaction's first
              // offset until its abort marker.
              while (aborted.length > 0 && aborted[0]!.firstOffset <= last) abortedProducers.add(aborted.shift()!.producerId);
              if (last < positions[p]!) continue;
              if (batch.attributes & IS_CONTROL) {
                const type = batch.records[0]?.key?.readInt16BE(2);
                if (type === 0) abortedProducers.delete(batch.producerId);
              } else if (!((batch.attributes & IS_TRANSACTIONAL) && abortedProducers.has(batch.producerId))) {
                for (const record of batch.records) {
                  const offset = batch.firstOffset + BigInt(record.offsetDelta);
                  if (offset < positions[p]!) continue;
                  yield { topic, partition: p, offset, timestamp: batch.firstTimestamp + record.timestampDelta, key: record.key, value: record.value };
                }
              }
              positions[p] = last + 1n;
            }
          }
        }
      }
    }
  } finally {
    await consumer.close().catch(() => {});
  }
}

/** The error identifiers (apiId) inside a @platformatic/kafka error, for matching. */
export function errorIds(err: unknown): string[] {
  const out: string[] = [];
  const visit = (e: unknown, depth: number): void => {
    if (depth > 4 || e === null || typeof e !== 'object') return;
    const { apiId, errors, cause } = e as { apiId?: unknown; errors?: unknown; cause?: unknown };
    if (typeof apiId === 'string') out.push(apiId);
    if (Array.isArray(errors)) for (const x of errors) visit(x, depth + 1);
    visit(cause, depth + 1);
  };
  visit(err, 0);
  return out;
}
