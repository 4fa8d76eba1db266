// Where each upstream partition is read from. The science database's positions are the truth (they
// are committed with the alerts); the upstream group's committed offsets, which stream2science
// keeps up to date for monitoring, stand in only for a partition the database has no position of
// (its nights pruned away); a partition neither knows is read from its first offset (a new nightly
// topic is read whole). `--reset-to` moves every partition to the offsets of a time, as Kafka's
// own tools do for a group.
import { ListOffsetTimestamps, type Consumer } from '@platformatic/kafka';
import { UsageError } from '../errors.ts';

export interface PartitionRef {
  topic: string;
  partition: number;
}

export type ResetTarget = 'earliest' | 'latest' | { time: Date };

/** `earliest`, `latest`, or a date (YYYY-MM-DD, YYYYMMDD, or an ISO 8601 time; a date alone is 00:00 UTC). */
export function parseResetTarget(text: string): ResetTarget {
  if (text === 'earliest' || text === 'latest') return text;
  const compact = /^(\d{4})(\d{2})(\d{2})$/.exec(text);
  const iso = compact === null ? text : `${compact[1]}-${compact[2]}-${compact[3]}`;
  const time = /^\d{4}-\d{2}-\d{2}$/.test(iso) ? new Date(`${iso}T00:00:00Z`) : new Date(iso);
  if (!/^\d{4}-\d{2}-\d{2}/.test(iso) || Number.isNaN(time.getTime())) throw new UsageError(`--reset-to: '${text}' is not earliest, latest or a date (YYYY-MM-DD, YYYYMMDD or an ISO 8601 time)`);
  return { time };
}

function byTopic(partitions: readonly PartitionRef[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const p of partitions) {
    const list = out.get(p.topic);
    if (list === undefined) out.set(p.topic, [p.partition]);
    else list.push(p.partition);
  }
  return out;
}

/** The offset of each partition at `target`: a time past a partition's last message gives its end. */
export async function offsetsAt(consumer: Consumer, partitions: readonly PartitionRef[], target: ResetTarget): Promise<Map<string, bigint[]>> {
  const topics = [...byTopic(partitions).keys()];
  if (topics.length === 0) return new Map();
  if (target === 'earliest' || target === 'latest') {
    return consumer.listOffsets({ topics, timestamp: target === 'earliest' ? ListOffsetTimestamps.EARLIEST : ListOffsetTimestamps.LATEST });
  }
  const at = await consumer.listOffsets({ topics, timestamp: BigInt(target.time.getTime()) });
  const ends = await consumer.listOffsets({ topics, timestamp: ListOffsetTimestamps.LATEST });
  // No message at or after the time: Kafka answers -1, which means the partition's end.
  return new Map([...at].map(([topic, offsets]) => [topic, offsets.map((o, p) => (o < 0n ? (ends.get(topic)?.[p] ?? 0n) : o))]));
}

/** The upstream group's committed offsets of these partitions (-1: none). */
export async function groupOffsets(consumer: Consumer, partitions: readonly PartitionRef[]): Promise<Map<string, bigint[]>> {
  if (partitions.length === 0) return new Map();
  return consumer.listCommittedOffsets({ topics: [...byTopic(partitions)].map(([topic, list]) => ({ topic, partitions: list })) });
}

/**
 * Commits positions to the upstream group, for monitoring (Kafka's tools show the group's lag). The
 * consumer never joins the group (it assigns its partitions itself), so it commits as a simple
 * consumer: generation -1 and an empty member id, which a group without members accepts.
 *
 * Workaround of @platformatic/kafka 2.12.1 (docs/architecture.md, Library workarounds): its commit
 * sends the client's own generationId and memberId, and a client that has not joined holds a null
 * member id, which OffsetCommit cannot carry (the broker closes the connection on it); so both are
 * set on the client before each commit. It can go once the library commits for a group without
 * joining it (a simple consumer's commit) or starts with an empty member id;
 * test/kafka/library-workarounds.test.ts says when.
 */
export async function commitToGroup(consumer: Consumer, positions: readonly (PartitionRef & { next: bigint })[]): Promise<void> {
  if (positions.length === 0) return;
  consumer.generationId = -1;
  consumer.memberId = '';
  await consumer.commit({ offsets: positions.map((p) => ({ topic: p.topic, partition: p.partition, offset: p.next, leaderEpoch: -1 })) });
}

/**
 * Commits positions to the upstream group as its member (shared mode): the client's own generation
 * and member id, which a group with members requires (a simple consumer's commit, generation -1, is
 * refused by a group that is not empty). A commit refused because the generation moved is dropped:
 * monitoring only, the next one carries the new generation.
 */
export async function commitAsMember(member: Consumer, positions: readonly (PartitionRef & { next: bigint })[]): Promise<void> {
  if (positions.length === 0) return;
  await member.commit({ offsets: positions.map((p) => ({ topic: p.topic, partition: p.partition, offset: p.next, leaderEpoch: -1 })) });
}
