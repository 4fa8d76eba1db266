// The partitions stream2science reads, without a broker: where each starts, where one whose
// position the broker refuses goes, when the service has caught up, and what a refresh assigns.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Admin, Consumer } from '@platformatic/kafka';
import type { Logger } from '../../src/log.ts';
import { positionKey } from '../../src/sciencedb/positions.ts';
import type { UpstreamPosition } from '../../src/sciencedb/store.ts';
import { Assignment, caughtUp, outOfRangeTarget, startOffset } from '../../src/upstream/assignment.ts';
import type { Stream2ScienceSettings } from '../../src/upstream/settings.ts';

test("a partition the science database has a position of starts there, whatever the group says", () => {
  assert.deepEqual(startOffset(42n, 7n, 0n), { next: 42n, by: 'science database' });
});

test('a position of 0 in the science database is a position', () => {
  assert.deepEqual(startOffset(0n, 7n, 3n), { next: 0n, by: 'science database' });
});

test("without one, it starts at the upstream group's committed offset", () => {
  assert.deepEqual(startOffset(undefined, 7n, 0n), { next: 7n, by: 'upstream group' });
});

test('without either, it starts at its first offset', () => {
  assert.deepEqual(startOffset(undefined, -1n, 5n), { next: 5n, by: 'earliest' });
});

test('a position before the first offset (retention removed what was not read) moves to the first offset', () => {
  assert.equal(outOfRangeTarget(3n, 10n, 20n), 10n);
});

test('a position past the end (the topic was recreated) moves to the start of the new one, not its end', () => {
  assert.equal(outOfRangeTarget(500n, 0n, 20n), 0n);
});

test('caught up: every partition read to the high watermark its last fetch saw', () => {
  assert.equal(caughtUp([{ next: 10n, highWatermark: 10n }, { next: 4n, highWatermark: 4n }]), true);
});

test('not caught up while one partition is behind', () => {
  assert.equal(caughtUp([{ next: 10n, highWatermark: 10n }, { next: 3n, highWatermark: 4n }]), false);
});

test('not caught up while a partition has not been fetched yet', () => {
  assert.equal(caughtUp([{ next: 0n, highWatermark: -1n }]), false);
});

test('not caught up with no partition assigned yet', () => {
  assert.equal(caughtUp([]), false);
});

const SETTINGS = { topics: [/^ztf_.*$/], formats: [{ pattern: /^ztf_.*$/, format: 'ztf' }] } as unknown as Stream2ScienceSettings;

/** A cluster of one topic with two partitions led by nodes 1 and 2, and another topic without a format. */
function fakes(): { admin: Admin; consumer: Consumer } {
  const admin = { listTopics: async () => ['ztf_a', 'other'] } as unknown as Admin;
  const consumer = {
    metadata: async () => ({ topics: new Map([['ztf_a', { id: 'id-a', partitions: [{ leader: 1 }, { leader: 2 }] }]]) }),
    listCommittedOffsets: async () => new Map([['ztf_a', [-1n, 30n]]]),
    listOffsets: async () => new Map([['ztf_a', [2n, 2n]]]),
  } as unknown as Consumer;
  return { admin, consumer };
}

test('a refresh assigns every partition of the wanted topics from its start position, grouped by leader', async () => {
  const lines: string[] = [];
  const log: Logger = (_level, message, fields) => lines.push(`${message} ${JSON.stringify(fields, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`);
  const stored = new Map<string, UpstreamPosition>([[positionKey('ztf_a', 0), { next: 11n, epoch: 0 } as unknown as UpstreamPosition]]);
  const assignment = new Assignment(stored, log);
  const { admin, consumer } = fakes();
  await assignment.refresh(admin, consumer, SETTINGS);
  assert.deepEqual(assignment.all().map((a) => [a.partition, a.next, a.leader]), [[0, 11n, 1], [1, 30n, 2]]);
  assert.deepEqual([...assignment.byLeader().keys()], [1, 2]);
  assert.equal(lines.filter((l) => l.startsWith('partition assigned')).length, 2);
  assert.equal(assignment.refreshDue(60_000), false);
});

test('advance moves the partitions past their messages; lags count from there to the high watermark', async () => {
  const assignment = new Assignment(new Map(), () => {});
  const { admin, consumer } = fakes();
  await assignment.refresh(admin, consumer, SETTINGS);
  for (const a of assignment.all()) a.highWatermark = 40n;
  const moved = assignment.advance([{ topic: 'ztf_a', partition: 1, next: 35n }, { topic: 'ztf_a', partition: 1, next: 40n }]);
  assert.deepEqual(moved.map((a) => [a.partition, a.next]), [[1, 40n]]);
  assert.deepEqual(assignment.lags().map((l) => [l.partition, l.messages]), [[0, 38], [1, 0]]);
  assert.equal(assignment.caughtUp(), false);
  assignment.advance([{ topic: 'ztf_a', partition: 0, next: 40n }]);
  assert.equal(assignment.caughtUp(), true);
});

test('a refresh that fails before the start positions are known assigns nothing, and the next one assigns them', async () => {
  const assignment = new Assignment(new Map(), () => {});
  const { admin, consumer } = fakes();
  const listCommittedOffsets = consumer.listCommittedOffsets.bind(consumer);
  let failures = 1;
  Object.assign(consumer, { listCommittedOffsets: async (...args: Parameters<Consumer['listCommittedOffsets']>) => {
    if (failures-- > 0) throw new Error('coordinator away');
    return listCommittedOffsets(...args);
  } });
  await assert.rejects(assignment.refresh(admin, consumer, SETTINGS), /coordinator away/);
  assert.deepEqual(assignment.all(), []);
  assert.equal(assignment.refreshDue(60_000), true);
  await assignment.refresh(admin, consumer, SETTINGS);
  assert.deepEqual(assignment.all().map((a) => [a.partition, a.next]), [[0, 2n], [1, 30n]]);
});
