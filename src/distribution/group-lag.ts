// What group mode asks of the science log as a whole: which of its topics exist yet, and the
// group's lag over every partition of them (what `--until-caught-up` waits to see at zero).
import { FetchIsolationLevels, ListOffsetTimestamps, type Consumer } from '@platformatic/kafka';
import { withAdmin, type KafkaConnection } from '../kafka/client-options.ts';
import { stableCommittedOffsets } from '../kafka/txn-offsets.ts';
import type { GroupMember } from './group-member.ts';

/**
 * How long the group's lag must stay zero before `--until-caught-up` exits: 3 s, three heartbeat
 * intervals, so that a rebalance under way (a member joining or leaving hands partitions around,
 * and until the new owner commits, the group's offsets say nothing new) and a writer's
 * transaction committing just then are seen before the instance leaves.
 */
export const UNTIL_CAUGHT_UP_QUIET_MS = 3000;

/**
 * The topics of `topics` that the cluster holds now, from the cluster's list of topics: a metadata
 * request that names a topic not there yet is retried by the client for seconds (10 retries 500 ms
 * apart on the reader), and group mode looks every 5 s, twice: with no Rubin topic in the log,
 * the instances spent 10 s of every look waiting for it, between every two batches.
 */
export async function scienceTopicsPresent(connection: KafkaConnection, topics: readonly string[]): Promise<string[]> {
  const listed = new Set(await withAdmin(connection, (admin) => admin.listTopics()));
  return topics.filter((topic) => listed.has(topic));
}

/**
 * Records of the science log that the group has not committed past, summed over every partition
 * of the topics present: from the group's committed offset (the log's start when none) to the
 * partition's stable end (what a read_committed reader can read).
 */
export async function groupLag(connection: KafkaConnection, reader: Consumer, member: GroupMember, topics: readonly string[]): Promise<number> {
  const present = await scienceTopicsPresent(connection, topics);
  if (present.length === 0) return 0;
  const ends = await reader.listOffsets({ topics: present, isolationLevel: FetchIsolationLevels.READ_COMMITTED });
  const starts = await reader.listOffsets({ topics: present, timestamp: ListOffsetTimestamps.EARLIEST });
  const partitions = present.flatMap((topic) => (ends.get(topic) ?? []).map((_, partition) => ({ topic, partition })));
  const committed = await stableCommittedOffsets(member.client, () => member.coordinator(), member.groupId, partitions);
  let lag = 0n;
  for (const { topic, partition } of partitions) {
    const start = starts.get(topic)?.[partition] ?? 0n;
    const end = ends.get(topic)?.[partition] ?? 0n;
    const at = committed.get(`${topic}/${partition}`) ?? start;
    const from = at > start ? at : start;
    if (end > from) lag += end - from;
  }
  return Number(lag);
}
