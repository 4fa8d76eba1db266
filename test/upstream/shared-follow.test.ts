// Shared mode following the group's assignment, without a broker: a member and a store of its
// partitions stood in for, a real Assignment over a fake cluster of two topics. A new generation
// releases what it takes away before taking what it gives, and a take that fails leaves nothing
// released in the assignment (the next round tries again).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Admin, Consumer } from '@platformatic/kafka';
import type { Assignment as GroupAssignment } from '../../src/kafka/group-member.ts';
import { positionKey } from '../../src/sciencedb/positions.ts';
import type { UpstreamPosition } from '../../src/sciencedb/store.ts';
import { Assignment } from '../../src/upstream/assignment.ts';
import { GroupCommits } from '../../src/upstream/group-commits.ts';
import { Stream2ScienceMetrics } from '../../src/upstream/metrics.ts';
import type { PartitionRef } from '../../src/upstream/offsets.ts';
import type { Stream2ScienceSettings } from '../../src/upstream/settings.ts';
import { SharedPartitions, type HeldPartitions, type SharedMember } from '../../src/upstream/shared.ts';

const SETTINGS = { topics: [/^ztf_.*$/], formats: [{ pattern: /^ztf_.*$/, format: 'ztf' }] } as unknown as Stream2ScienceSettings;

/** Two wanted topics of two partitions each, every partition at offset 2 and without a group offset. */
function cluster(): { admin: Admin; consumer: Consumer } {
  const admin = { listTopics: async () => ['ztf_a', 'ztf_b'] } as unknown as Admin;
  const partitions = [{ leader: 1 }, { leader: 2 }];
  const consumer = {
    metadata: async () => ({ topics: new Map([['ztf_a', { id: 'id-a', partitions }], ['ztf_b', { id: 'id-b', partitions }]]) }),
    listCommittedOffsets: async () => new Map([['ztf_a', [-1n, -1n]], ['ztf_b', [-1n, -1n]]]),
    listOffsets: async () => new Map([['ztf_a', [2n, 2n]], ['ztf_b', [2n, 2n]]]),
  } as unknown as Consumer;
  return { admin, consumer };
}

/** The store's side: the partitions held, each taken at position 40; `failing` makes a take fail. */
class FakeStore implements HeldPartitions {
  readonly calls: string[] = [];
  failing = false;
  readonly #held = new Set<string>();
  held(): Set<string> {
    return new Set(this.#held);
  }
  async take(parts: readonly PartitionRef[]): Promise<Map<string, UpstreamPosition>> {
    if (parts.length === 0) return new Map();
    this.calls.push(`take ${parts.map((p) => `${p.topic}/${p.partition}`).join(',')}`);
    if (this.failing) throw new Error('the coordinator is away');
    for (const p of parts) this.#held.add(positionKey(p.topic, p.partition));
    return new Map(parts.map((p) => [positionKey(p.topic, p.partition), { ...p, next: 40n, epoch: 0 }]));
  }
  async release(parts: readonly PartitionRef[]): Promise<void> {
    if (parts.length === 0) return;
    this.calls.push(`release ${parts.map((p) => `${p.topic}/${p.partition}`).join(',')}`);
    for (const p of parts) this.#held.delete(positionKey(p.topic, p.partition));
  }
  takeFenced(): PartitionRef[] {
    return [];
  }
}

function setUp() {
  const member = {
    topics: [] as string[],
    assignment: undefined as GroupAssignment | undefined,
    groupId: 'g',
    instanceId: 'host-a',
    client: {} as Consumer,
    subscribe: async (topics: readonly string[]) => {
      member.topics = [...topics];
    },
    close: async () => {},
  };
  const give = (generationId: number, partitions: PartitionRef[]) => {
    member.assignment = { group: { groupId: 'g', generationId, memberId: 'm', groupInstanceId: 'host-a' }, partitions };
  };
  const store = new FakeStore();
  const assignment = new Assignment(new Map(), () => {}, { shared: true });
  const commits = new GroupCommits({} as Consumer, 'g', new Stream2ScienceMetrics(), () => {}, async () => {});
  const shared = new SharedPartitions(member as SharedMember, store, () => {});
  const { admin, consumer } = cluster();
  /** One round's start, as the service does it. */
  const round = async (): Promise<boolean> => {
    await assignment.refresh(admin, consumer, SETTINGS);
    await shared.join(assignment);
    const changed = await shared.follow(assignment, commits);
    if (changed) await assignment.refresh(admin, consumer, SETTINGS);
    return changed;
  };
  const read = () => assignment.all().map((a) => `${a.topic}/${a.partition}@${a.next}`).sort();
  return { member, give, store, assignment, round, read };
}

test('before the group gives anything, no partition is read; the member joins over the wanted topics', async () => {
  const { member, round, read } = setUp();
  assert.equal(await round(), false);
  assert.deepEqual(member.topics, ['ztf_a', 'ztf_b']);
  assert.deepEqual(read(), []);
});

test('a generation\'s partitions are read from the positions the take found, and only those', async () => {
  const { give, round, read } = setUp();
  give(1, [{ topic: 'ztf_a', partition: 0 }, { topic: 'ztf_b', partition: 1 }]);
  assert.equal(await round(), true);
  assert.deepEqual(read(), ['ztf_a/0@40', 'ztf_b/1@40']);
  // The same generation again changes nothing.
  assert.equal(await round(), false);
});

test('a new generation releases what it takes away before taking what it gives', async () => {
  const { give, store, round, read } = setUp();
  give(1, [{ topic: 'ztf_a', partition: 0 }, { topic: 'ztf_a', partition: 1 }]);
  await round();
  give(2, [{ topic: 'ztf_a', partition: 1 }, { topic: 'ztf_b', partition: 0 }]);
  assert.equal(await round(), true);
  assert.deepEqual(store.calls, ['take ztf_a/0,ztf_a/1', 'release ztf_a/0', 'take ztf_b/0']);
  assert.deepEqual(read(), ['ztf_a/1@40', 'ztf_b/0@40']);
});

test('a take that fails: the partitions released are read no more, and the next round takes again', async () => {
  const { give, store, round, read } = setUp();
  give(1, [{ topic: 'ztf_a', partition: 0 }, { topic: 'ztf_a', partition: 1 }]);
  await round();
  give(2, [{ topic: 'ztf_a', partition: 1 }, { topic: 'ztf_b', partition: 0 }]);
  store.failing = true;
  await assert.rejects(round(), /the coordinator is away/);
  assert.deepEqual(read(), ['ztf_a/1@40']);
  store.failing = false;
  assert.equal(await round(), true);
  assert.deepEqual(read(), ['ztf_a/1@40', 'ztf_b/0@40']);
});
