// An instance's membership of a consumer group: the distribution's over the science log (group
// mode, DESIGN.md section 6), or stream2science's over the upstream topics (shared mode,
// UPSTREAM_INSTANCE_ID). The classic group protocol with static membership (KIP-345), the client's
// own joins, heartbeats and rejoins, and the assignment as the coordinator last gave it. The member
// reads nothing: the service fetches its partitions itself and commits where it keeps its positions.
//
// Classic protocol, not KIP-848's: a workaround of @platformatic/kafka 2.12.1, which under the new
// protocol keeps its generation at 0 and so carries 0 into transactional offsets, which the
// coordinator cannot check against the member's epoch. It can go once the library carries the
// member epoch there: test/kafka/library-workarounds.test.ts fails when that changes.
//
// Timings: a SIGKILLed static member sends no LeaveGroup; the coordinator keeps its partitions
// until its session times out. SESSION_TIMEOUT_MS = 10 s (Kafka's floor group.min.session.timeout.ms
// is 6 s), heartbeats every second, so the survivors hear of the rebalance within a second of the
// expiry and, being the only members left, complete it at once: the dead member's partitions flow
// again about 11 s after the kill, within the 15 s promised, while a member stalled for a few
// seconds (a long batch, a slow disk) keeps its partitions.
import { Consumer } from '@platformatic/kafka';
import type { KafkaConnection } from './client-options.ts';
import type { GroupMetadata } from './txn-offsets.ts';
import type { Logger } from '../log.ts';

export const SESSION_TIMEOUT_MS = 10_000;
export const HEARTBEAT_INTERVAL_MS = 1_000;
/** How long the coordinator waits for the members to rejoin a rebalance: they rejoin from their heartbeat, not between batches. */
export const REBALANCE_TIMEOUT_MS = 20_000;

export interface PartitionRef {
  topic: string;
  partition: number;
}

/** One generation of the group as this member joined it: who it is, what it owns. */
export interface Assignment {
  group: GroupMetadata;
  partitions: PartitionRef[];
}

interface JoinPayload {
  memberId: string;
  generationId?: number;
  assignments?: { topic: string; partitions: number[] }[];
}

export class GroupMember {
  readonly #consumer: Consumer;
  readonly #groupId: string;
  readonly #instanceId: string;
  #current: Assignment | undefined;
  #joinedAt = 0;

  /** `role` names the client to the brokers (`fink-<role>-<instanceId>`). */
  constructor(connection: KafkaConnection, groupId: string, instanceId: string, log: Logger, role = 'distribution') {
    this.#groupId = groupId;
    this.#instanceId = instanceId;
    this.#consumer = new Consumer({
      clientId: `fink-${role}-${instanceId}`,
      groupId,
      groupInstanceId: instanceId,
      ...connection,
      autocommit: false,
      sessionTimeout: SESSION_TIMEOUT_MS,
      heartbeatInterval: HEARTBEAT_INTERVAL_MS,
      rebalanceTimeout: REBALANCE_TIMEOUT_MS,
      retries: 10,
      retryDelay: 500,
    });
    // The assignment and the generation it belongs to, together: the client sets its generation at
    // JoinGroup and its assignments at SyncGroup, so reading them apart could pair a new generation
    // with partitions this member no longer owns.
    this.#consumer.on('consumer:group:join', (payload: JoinPayload) => {
      const partitions = (payload.assignments ?? []).flatMap((a) => a.partitions.map((partition) => ({ topic: a.topic, partition })));
      this.#current = { group: { groupId, generationId: payload.generationId ?? -1, memberId: payload.memberId, groupInstanceId: instanceId }, partitions };
      this.#joinedAt = Date.now();
      log('info', 'group joined', { group: groupId, generation: payload.generationId, member: payload.memberId, partitions: partitions.map((p) => `${p.topic}/${p.partition}`).join(',') });
    });
    this.#consumer.on('error', (err: Error) => log('warn', 'group membership: the client reported an error (it rejoins by itself)', { group: groupId, error: err.message }));
  }

  /** The client that holds the membership: its connections reach the group coordinator. */
  get client(): Consumer {
    return this.#consumer;
  }

  get instanceId(): string {
    return this.#instanceId;
  }

  /** The current generation's assignment (undefined before the first join). */
  get assignment(): Assignment | undefined {
    return this.#current;
  }

  /** When the current assignment was received (ms since the epoch). */
  get joinedAt(): number {
    return this.#joinedAt;
  }

  /** Joins (or, with topics added, rejoins) the group over `topics`. */
  async subscribe(topics: readonly string[]): Promise<void> {
    this.#consumer.topics.trackAll(...topics.filter((t) => !this.#consumer.topics.has(t)));
    await this.#consumer.joinGroup({});
  }

  /** Joins again over the same topics (the client rejoins by itself from its heartbeat; this is for when it has not). */
  async rejoin(): Promise<void> {
    await this.#consumer.joinGroup({});
  }

  get topics(): readonly string[] {
    return this.#consumer.topics.current;
  }

  /** The group coordinator's broker id. */
  coordinator(): Promise<number> {
    return this.#consumer.findGroupCoordinator();
  }

  /** Leaves the group (its partitions go to the others at once) and closes the client. */
  async close(): Promise<void> {
    try {
      await this.#consumer.leaveGroup(true);
    } catch {
      // Leaving is a courtesy: without it the coordinator lets the session time out.
    }
    try {
      await this.#consumer.close(true);
    } catch {
      // Closing what is being given up.
    }
  }

  get groupId(): string {
    return this.#groupId;
  }
}
