// A consumer group's offsets inside a producer's transaction (Kafka's read-process-write, KIP-447),
// and the group's committed offsets as a new owner of a partition must read them.
// Workaround of @platformatic/kafka 2.12.1, for two traps of Transaction.addOffset: it sends one
// TxnOffsetCommit per partition (a round trip each), and calls made while one is in flight are
// merged into that first one (deduplication key 'commit'): their partitions' offsets are never
// sent, yet they are acknowledged. So the offsets of a whole batch go here in ONE TxnOffsetCommit,
// through the library's exported API function (v4: it carries the group's generation, member id
// and group instance id, by which the coordinator refuses a member that lost its partitions). And
// its Consumer.listCommittedOffsets asks OffsetFetch without require_stable, which can answer an
// offset that a transaction still open is about to replace: the new owner of a partition would
// then distribute again what the old owner's transaction commits. So OffsetFetch v8 with
// require_stable, retried while the broker answers UNSTABLE_OFFSET_COMMIT.
// Both can go once the library sends a batch's offsets in one request with the group instance id
// and reads committed offsets with require_stable: test/kafka/library-workarounds.test.ts fails
// when its behaviour changes.
import { setTimeout as sleep } from 'node:timers/promises';
import { kGetConnection, kMetadata, offsetFetchV8, txnOffsetCommitV4, type Consumer } from '@platformatic/kafka';
import { FinkError } from '../errors.ts';
import { errorIds, isCoordinatorSettling } from './errors.ts';
import type { BufferProducer, ProducerTransaction } from './transactional-producer.ts';

/** Who a member of a consumer group is, as the group coordinator knows it for one generation. */
export interface GroupMetadata {
  groupId: string;
  generationId: number;
  memberId: string;
  /** Static membership (KIP-345): the member's fixed identity. */
  groupInstanceId: string | null;
}

/** The next offset to read of one partition. */
export interface TopicOffset {
  topic: string;
  partition: number;
  offset: bigint;
}

/** The group coordinator refused the offsets: the member's generation is over (its partitions went elsewhere). */
export class GroupFencedError extends FinkError {
  readonly reasons: string[];
  /** The generation refused. */
  readonly group: GroupMetadata;
  constructor(group: GroupMetadata, reasons: readonly string[] | string) {
    const list = typeof reasons === 'string' ? [reasons] : [...reasons];
    super(`the group coordinator of ${group.groupId} refused the offsets of generation ${group.generationId} (${list.join(', ')}): this member's partitions moved`, { code: 'FINK_GROUP_FENCED' });
    this.name = 'GroupFencedError';
    this.reasons = list;
    this.group = group;
  }
}

/** Answers by which the coordinator says the member no longer owns what it commits. */
const GENERATION_OVER: ReadonlySet<string> = new Set(['ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'FENCED_INSTANCE_ID', 'REBALANCE_IN_PROGRESS']);

const SETTLE_DEADLINE_MS = 30_000;

type Connection = unknown;

function call<T>(fn: (callback: (error: Error | null, result?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((error, result) => (error === null || error === undefined ? resolve(result as T) : reject(error))));
}

interface Internals {
  [kMetadata](options: { topics: string[] }, callback: (error: Error | null, metadata?: { brokers: Map<number, unknown> }) => void): void;
  [kGetConnection](broker: unknown, callback: (error: Error | null, connection?: Connection) => void): void;
}

/** A connection to broker `nodeId` of `client`'s cluster. */
async function connectionTo(client: object, nodeId: number): Promise<Connection> {
  const internals = client as Internals;
  const metadata = await call<{ brokers: Map<number, unknown> }>((cb) => internals[kMetadata]({ topics: [] }, cb));
  const broker = metadata.brokers.get(nodeId);
  if (broker === undefined) throw new FinkError(`broker ${nodeId} (the group coordinator) is not in the cluster's metadata`, { code: 'FINK_KAFKA' });
  return call<Connection>((cb) => internals[kGetConnection](broker, cb));
}

function byTopic(offsets: readonly TopicOffset[]): Map<string, TopicOffset[]> {
  const out = new Map<string, TopicOffset[]>();
  for (const o of offsets) {
    let list = out.get(o.topic);
    if (list === undefined) out.set(o.topic, (list = []));
    list.push(o);
  }
  return out;
}

/**
 * Adds the group's offsets to the open transaction `tx` of `producer`: AddOffsetsToTxn (once per
 * transaction, which the library remembers), then one TxnOffsetCommit with every partition, sent
 * to the group coordinator (`coordinator` finds it). GroupFencedError when the coordinator says the member's
 * generation is over.
 */
export async function sendOffsetsToTransaction(producer: BufferProducer, tx: ProducerTransaction, coordinator: () => Promise<number>, group: GroupMetadata, offsets: readonly TopicOffset[]): Promise<void> {
  if (offsets.length === 0) return;
  await tx.addConsumer({ groupId: group.groupId } as unknown as Consumer);
  const topics = [...byTopic(offsets)].map(([name, list]) => ({ name, partitions: list.map((o) => ({ partitionIndex: o.partition, committedOffset: o.offset, committedLeaderEpoch: -1, committedMetadata: null })) }));
  const deadline = Date.now() + SETTLE_DEADLINE_MS;
  for (;;) {
    try {
      const connection = await connectionTo(producer, await coordinator());
      await txnOffsetCommitV4.api.async(connection as never, tx.id, group.groupId, producer.producerId!, producer.producerEpoch!, group.generationId, group.memberId, group.groupInstanceId, topics as never);
      return;
    } catch (err) {
      const ids = errorIds(err);
      const over = ids.filter((id) => GENERATION_OVER.has(id));
      if (over.length > 0) throw new GroupFencedError(group, over);
      if (!isCoordinatorSettling(err) || Date.now() > deadline) throw err;
      await sleep(100);
    }
  }
}

/**
 * The group's committed offsets of `partitions` (undefined: none committed), once stable: while a
 * transaction holding offsets of one of them is open, the broker answers UNSTABLE_OFFSET_COMMIT
 * and the question is asked again until that transaction ends.
 */
export async function stableCommittedOffsets(client: object, coordinator: () => Promise<number>, groupId: string, partitions: readonly { topic: string; partition: number }[], deadlineMs = 120_000): Promise<Map<string, bigint | undefined>> {
  const topics = [...byTopic(partitions.map((p) => ({ ...p, offset: 0n })))].map(([name, list]) => ({ name, partitionIndexes: list.map((p) => p.partition) }));
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    try {
      const connection = await connectionTo(client, await coordinator());
      const response = (await offsetFetchV8.api.async(connection as never, [{ groupId, memberId: null, memberEpoch: -1, topics }] as never, true)) as unknown as OffsetFetchAnswer;
      const out = new Map<string, bigint | undefined>();
      for (const g of response.groups) for (const t of g.topics) for (const p of t.partitions) out.set(`${t.name}/${p.partitionIndex}`, p.committedOffset < 0n ? undefined : p.committedOffset);
      return out;
    } catch (err) {
      const ids = errorIds(err);
      const retry = ids.length > 0 && ids.every((id) => id === 'UNSTABLE_OFFSET_COMMIT') ? true : isCoordinatorSettling(err);
      if (!retry || Date.now() > deadline) throw err;
      await sleep(200);
    }
  }
}

interface OffsetFetchAnswer {
  groups: { topics: { name: string; partitions: { partitionIndex: number; committedOffset: bigint }[] }[] }[];
}
