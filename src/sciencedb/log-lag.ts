// How far a consumer group is behind the science log, partition by partition: what group mode's
// `--until-caught-up` waits to see at zero and what the console shows beside the log's rates. Here,
// in the science log's room, so that the distribution and the console read it the same way.
import { FetchIsolationLevels, ListOffsetTimestamps, type Consumer } from '@platformatic/kafka';
import type { KafkaConnection } from '../kafka/client-options.ts';
import { newPartitionReader } from '../kafka/topic-reader.ts';
import { listTopics } from '../kafka/topics.ts';
import { stableCommittedOffsets } from '../kafka/txn-offsets.ts';

/** The group's committed offsets of `partitions`, keyed `topic/partition` (undefined: none committed). */
export type CommittedOffsets = (partitions: readonly { topic: string; partition: number }[]) => Promise<Map<string, bigint | undefined>>;

/** One partition of the log as the group stands on it. */
export interface PartitionLag {
  topic: string;
  partition: number;
  /** The stable end: what a read_committed reader can read up to (transaction markers counted). */
  end: bigint;
  /** Records from the group's committed offset (the log's start when none) to the stable end. */
  lag: bigint;
}

/**
 * The topics of `topics` that the cluster holds now, from one listing: asking the metadata of a
 * topic that does not exist costs the client's retries (about 5 s each time), and a log that has
 * only one survey's topic is asked at every look.
 */
export async function scienceTopicsPresent(connection: KafkaConnection, topics: readonly string[]): Promise<string[]> {
  const listed = new Set(await listTopics(connection));
  return topics.filter((t) => listed.has(t));
}

/** Every partition of the topics of `topics` present, with its stable end and the group's lag on it. */
export async function partitionLags(connection: KafkaConnection, reader: Consumer, committedOf: CommittedOffsets, topics: readonly string[]): Promise<PartitionLag[]> {
  const present = await scienceTopicsPresent(connection, topics);
  if (present.length === 0) return [];
  const ends = await reader.listOffsets({ topics: present, isolationLevel: FetchIsolationLevels.READ_COMMITTED });
  const starts = await reader.listOffsets({ topics: present, timestamp: ListOffsetTimestamps.EARLIEST });
  const partitions = present.flatMap((topic) => (ends.get(topic) ?? []).map((_, partition) => ({ topic, partition })));
  const committed = await committedOf(partitions);
  return partitions.map(({ topic, partition }) => {
    const start = starts.get(topic)?.[partition] ?? 0n;
    const end = ends.get(topic)?.[partition] ?? 0n;
    const at = committed.get(`${topic}/${partition}`) ?? start;
    const from = at > start ? at : start;
    return { topic, partition, end, lag: end > from ? end - from : 0n };
  });
}

/**
 * A reader that looks at group `groupId` from outside: it carries the group's id only to find the
 * group's coordinator, and never joins (a consumer that has not joined sends no JoinGroup and no
 * LeaveGroup, so the group's members and their partitions are left as they are).
 */
export function groupObserver(connection: KafkaConnection, groupId: string, clientId: string): { reader: Consumer; committed: CommittedOffsets } {
  const reader = newPartitionReader(connection, clientId, groupId);
  return { reader, committed: (partitions) => stableCommittedOffsets(reader, () => reader.findGroupCoordinator(), groupId, partitions, 10_000) };
}
