// What group mode asks of the science log as a whole: which of its topics exist yet, and the
// group's lag over every partition of them (what `--until-caught-up` waits to see at zero).
import { FetchIsolationLevels, ListOffsetTimestamps, type Consumer } from '@platformatic/kafka';
import { isUnknownTopic } from '../kafka/errors.ts';
import { stableCommittedOffsets } from '../kafka/txn-offsets.ts';
import type { GroupMember } from './group-member.ts';

/**
 * How long the group's lag must stay zero before `--until-caught-up` exits: 3 s, three heartbeat
 * intervals, so that a rebalance under way (a member joining or leaving hands partitions around,
 * and until the new owner commits, the group's offsets say nothing new) and a writer's
 * transaction committing just then are seen before the instance leaves.
 */
export const UNTIL_CAUGHT_UP_QUIET_MS = 3000;

/** The topics of `topics` that the cluster holds now. */
export async function scienceTopicsPresent(reader: Consumer, topics: readonly string[]): Promise<string[]> {
  const present: string[] = [];
  for (const topic of topics) {
    try {
      const metadata = await reader.metadata({ topics: [topic], forceUpdate: true });
      if (metadata.topics.has(topic)) present.push(topic);
    } catch (err) {
      if (!isUnknownTopic(err)) throw err;
    }
  }
  return present;
}

/**
 * Records of the science log that the group has not committed past, summed over every partition
 * of the topics present: from the group's committed offset (the log's start when none) to the
 * partition's stable end (what a read_committed reader can read).
 */
export async function groupLag(reader: Consumer, member: GroupMember, topics: readonly string[]): Promise<number> {
  const present = await scienceTopicsPresent(reader, topics);
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
