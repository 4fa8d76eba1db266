// What group mode asks of the science log as a whole: which of its topics exist yet, and the
// group's lag over every partition of them (what `--until-caught-up` waits to see at zero). The
// reading itself is the science log's (sciencedb/log-lag.ts), shared with the console.
import type { Consumer } from '@platformatic/kafka';
import type { KafkaConnection } from '../kafka/client-options.ts';
import { stableCommittedOffsets } from '../kafka/txn-offsets.ts';
import { partitionLags } from '../sciencedb/log-lag.ts';
import type { GroupMember } from '../kafka/group-member.ts';

export { scienceTopicsPresent } from '../sciencedb/log-lag.ts';

/**
 * How long the group's lag must stay zero before `--until-caught-up` exits: 3 s, three heartbeat
 * intervals, so that a rebalance under way (a member joining or leaving hands partitions around,
 * and until the new owner commits, the group's offsets say nothing new) and a writer's
 * transaction committing just then are seen before the instance leaves.
 */
export const UNTIL_CAUGHT_UP_QUIET_MS = 3000;

/**
 * Records of the science log that the group has not committed past, summed over every partition
 * of the topics present: from the group's committed offset (the log's start when none) to the
 * partition's stable end (what a read_committed reader can read).
 */
export async function groupLag(connection: KafkaConnection, reader: Consumer, member: GroupMember, topics: readonly string[]): Promise<number> {
  const lags = await partitionLags(connection, reader, (partitions) => stableCommittedOffsets(member.client, () => member.coordinator(), member.groupId, partitions), topics);
  return Number(lags.reduce((sum, p) => sum + p.lag, 0n));
}
