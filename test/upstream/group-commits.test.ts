// The commits to the upstream group, without a broker: at most one a second while running, what
// is left at the end, and a refused commit logged and counted in both cases, and tried again.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Consumer } from '@platformatic/kafka';
import type { Assigned } from '../../src/upstream/assignment.ts';
import { GroupCommits } from '../../src/upstream/group-commits.ts';
import { Stream2ScienceMetrics } from '../../src/upstream/metrics.ts';

function partition(p: number, next: bigint): Assigned {
  return { topic: 'ztf_a', partition: p, topicId: 'id', format: 'ztf', leader: 1, next, highWatermark: -1n };
}

function fakeConsumer(fail: boolean): { consumer: Consumer; commits: bigint[][] } {
  const commits: bigint[][] = [];
  const consumer = {
    commit: async ({ offsets }: { offsets: { offset: bigint }[] }) => {
      if (fail) throw Object.assign(new Error('refused'), { code: 'PLT_KFK_PROTOCOL' });
      commits.push(offsets.map((o) => o.offset));
    },
  } as unknown as Consumer;
  return { consumer, commits };
}

test('a flush commits the positions moved, then waits a second before the next', async () => {
  const { consumer, commits } = fakeConsumer(false);
  const group = new GroupCommits(consumer, 'g', new Stream2ScienceMetrics(), () => {});
  const a = partition(0, 5n);
  group.note([a, partition(1, 7n)]);
  await group.flush({ final: false });
  a.next = 9n;
  group.note([a]);
  await group.flush({ final: false });
  assert.deepEqual(commits, [[5n, 7n]]);
});

test('the final flush commits what is left at once', async () => {
  const { consumer, commits } = fakeConsumer(false);
  const group = new GroupCommits(consumer, 'g', new Stream2ScienceMetrics(), () => {});
  group.note([partition(0, 5n)]);
  await group.flush({ final: false });
  group.note([partition(0, 9n)]);
  await group.flush({ final: true });
  assert.deepEqual(commits, [[5n], [9n]]);
});

test('nothing moved, nothing committed', async () => {
  const { consumer, commits } = fakeConsumer(false);
  await new GroupCommits(consumer, 'g', new Stream2ScienceMetrics(), () => {}).flush({ final: true });
  assert.deepEqual(commits, []);
});

for (const final of [false, true]) {
  test(`a refused commit is logged and counted (${final ? 'the final flush' : 'while running'})`, async () => {
    const { consumer } = fakeConsumer(true);
    const metrics = new Stream2ScienceMetrics();
    const lines: string[] = [];
    const group = new GroupCommits(consumer, 'g', metrics, (_level, message) => lines.push(message));
    group.note([partition(0, 5n)]);
    await group.flush({ final });
    assert.equal(metrics.errors.get('group_commit'), 1);
    assert.match(lines.join('\n'), /could not commit offsets to the upstream group/);
  });
}

/** A commit that the group refuses `refusals` times, then takes: what it took, in order. */
function refusingCommit(refusals: number): { commit: (positions: readonly { partition: number; next: bigint }[]) => Promise<void>; taken: [number, bigint][][] } {
  const taken: [number, bigint][][] = [];
  let left = refusals;
  return {
    taken,
    commit: async (positions) => {
      if (left-- > 0) throw Object.assign(new Error('REBALANCE_IN_PROGRESS'), { code: 'PLT_KFK_PROTOCOL' });
      taken.push(positions.map((p) => [p.partition, p.next]));
    },
  };
}

test('a refused commit is tried again with the next flush, though nothing moved since (a stream gone quiet)', async () => {
  const { commit, taken } = refusingCommit(1);
  const group = new GroupCommits({} as Consumer, 'g', new Stream2ScienceMetrics(), () => {}, commit);
  const a = partition(0, 5n);
  group.note([a, partition(1, 7n)]);
  await group.flush({ final: true });
  assert.deepEqual(taken, []);
  a.next = 6n;
  await group.flush({ final: true });
  assert.deepEqual(taken, [[[0, 6n], [1, 7n]]], 'the positions as they are now');
  await group.flush({ final: true });
  assert.equal(taken.length, 1, 'committed once');
});

test('a partition given up while its commit was refused is left to its new owner', async () => {
  let release!: () => void;
  const refused = new Promise<void>((resolve) => (release = resolve));
  const taken: number[][] = [];
  let calls = 0;
  const commit = async (positions: readonly { partition: number }[]) => {
    if (calls++ === 0) {
      await refused;
      throw Object.assign(new Error('ILLEGAL_GENERATION'), { code: 'PLT_KFK_PROTOCOL' });
    }
    taken.push(positions.map((p) => p.partition));
  };
  const group = new GroupCommits({} as Consumer, 'g', new Stream2ScienceMetrics(), () => {}, commit);
  group.note([partition(0, 5n), partition(1, 7n)]);
  const first = group.flush({ final: true });
  group.forget([{ topic: 'ztf_a', partition: 1 }]);
  release();
  await first;
  await group.flush({ final: true });
  assert.deepEqual(taken, [[0]]);
});

