// stream2science's shared mode (UPSTREAM_INSTANCE_ID, SCIENCE_STORE=kafka): instances on several
// hosts join the upstream group UPSTREAM_GROUP_ID on the upstream cluster (classic protocol, static
// membership: src/kafka/group-member.ts), each reading only the partitions the coordinator gave it.
// The member only holds the assignment; the service fetches the partitions itself, as in the
// single-instance mode, and keeps their positions in the science log (log-shared-positions.ts).
//
// Each round starts by following the member: the wanted topics subscribed (a rejoin when the list
// grows), and on a new generation the partitions lost released (their writers closed) before the
// ones gained are taken (their writers opened, fencing the earlier owner, then their positions
// read). A partition whose writer was fenced meanwhile (a newer owner opened it) is dropped at once.
import type { Consumer } from '@platformatic/kafka';
import type { GroupMember } from '../kafka/group-member.ts';
import type { Logger } from '../log.ts';
import type { SharedLogPositionStore } from '../sciencedb/log-shared-positions.ts';
import { positionKey } from '../sciencedb/positions.ts';
import type { Assignment } from './assignment.ts';
import type { GroupCommits } from './group-commits.ts';
import type { PartitionRef } from './offsets.ts';

/** What shared mode uses of the group's member. */
export type SharedMember = Pick<GroupMember, 'topics' | 'assignment' | 'groupId' | 'instanceId' | 'client' | 'subscribe' | 'close'>;
/** What shared mode uses of the store: the partitions held, taken, released, fenced. */
export type HeldPartitions = Pick<SharedLogPositionStore, 'held' | 'take' | 'release' | 'takeFenced'>;

/** What a new assignment changes of the partitions held: those to give up and those to take. */
export function assignmentChange(held: ReadonlySet<string>, given: readonly PartitionRef[]): { lost: PartitionRef[]; gained: PartitionRef[] } {
  const keys = new Set(given.map((p) => positionKey(p.topic, p.partition)));
  const lost = [...held].filter((k) => !keys.has(k)).map(refOf);
  const gained = given.filter((p) => !held.has(positionKey(p.topic, p.partition)));
  return { lost, gained };
}

function refOf(key: string): PartitionRef {
  const at = key.lastIndexOf('\u0000');
  return { topic: key.slice(0, at), partition: Number(key.slice(at + 1)) };
}

function names(parts: readonly PartitionRef[]): string {
  return parts.map((p) => `${p.topic}/${p.partition}`).join(',');
}

export class SharedPartitions {
  readonly member: SharedMember;
  readonly store: HeldPartitions;
  readonly #log: Logger;
  /** The generation and member id of the assignment the partitions held follow. */
  #following: string | undefined;

  constructor(member: SharedMember, store: HeldPartitions, log: Logger) {
    this.member = member;
    this.store = store;
    this.#log = log;
  }

  /** The member's client, for commits to the group with its generation. */
  get client(): Consumer {
    return this.member.client;
  }

  /** Joins the group over the wanted topics the last refresh found, or rejoins when there are new ones. */
  async join(assignment: Assignment): Promise<void> {
    const topics = assignment.consumedTopics();
    if (!topics.some((t) => !this.member.topics.includes(t))) return;
    this.#log('info', 'joining the upstream group over the wanted topics', { group: this.member.groupId, instance: this.member.instanceId, topics: topics.join(',') });
    await this.member.subscribe(topics);
  }

  /**
   * Brings the partitions held in line with the member's assignment; true when they changed (the
   * caller refreshes the assignment so that the partitions taken get their metadata).
   */
  async follow(assignment: Assignment, commits: GroupCommits): Promise<boolean> {
    const given = this.member.assignment;
    if (given === undefined) return false;
    const generation = `${given.group.generationId}/${given.group.memberId}`;
    if (generation === this.#following) return false;
    const { lost, gained } = assignmentChange(this.store.held(), given.partitions);
    await this.store.release(lost);
    commits.forget(lost);
    // Read no more before the take, which may fail (it is tried again next round).
    if (lost.length > 0) assignment.own(this.store.held(), new Map());
    const positions = await this.store.take(gained);
    assignment.own(this.store.held(), positions);
    this.#following = generation;
    this.#log('info', 'upstream partitions of this instance', { group: this.member.groupId, generation: given.group.generationId, held: names(given.partitions), taken: names(gained), released: names(lost) });
    return true;
  }

  /**
   * After a failed round: partitions whose writer a newer owner fenced are dropped; the assignment
   * in hand is looked at again next round (a stale owner that fenced this one is fenced back, and
   * gives up once its member sees the new generation).
   */
  afterFailure(assignment: Assignment, commits: GroupCommits): void {
    const fenced = this.store.takeFenced();
    if (fenced.length === 0) return;
    this.#log('warn', 'partitions taken by another instance of the group (their writers fenced): dropped', { group: this.member.groupId, partitions: names(fenced) });
    commits.forget(fenced);
    assignment.own(this.store.held(), new Map());
    this.#following = undefined;
  }

  async close(): Promise<void> {
    await this.member.close();
  }
}
