// The pure pieces of stream2science's shared mode (UPSTREAM_INSTANCE_ID), without a broker: what a
// new assignment changes of the partitions held, a round's messages by partition, the transactional
// id of a partition's writer, and the key refused without the science log.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/config.ts';
import { UsageError } from '../../src/errors.ts';
import { byPartition, partitionTransactionalId } from '../../src/sciencedb/log-shared-positions.ts';
import { positionKey } from '../../src/sciencedb/positions.ts';
import { Stream2ScienceMetrics } from '../../src/upstream/metrics.ts';
import { stream2scienceSettings } from '../../src/upstream/settings.ts';
import { assignmentChange } from '../../src/upstream/shared.ts';
import { testEnv } from '../helpers/cli.ts';

test('a new assignment: the partitions held that it does not give are lost, those it gives that are not held are gained', () => {
  const held = new Set([positionKey('ztf_a', 0), positionKey('ztf_a', 1), positionKey('ztf_b', 0)]);
  const change = assignmentChange(held, [{ topic: 'ztf_a', partition: 1 }, { topic: 'ztf_b', partition: 1 }, { topic: 'ztf_b', partition: 0 }]);
  assert.deepEqual(change, { lost: [{ topic: 'ztf_a', partition: 0 }], gained: [{ topic: 'ztf_b', partition: 1 }] });
});

test('a topic name with the separator\'s neighbours and digits comes back whole from a lost partition', () => {
  const change = assignmentChange(new Set([positionKey('ztf_2026-01-01_12', 11)]), []);
  assert.deepEqual(change.lost, [{ topic: 'ztf_2026-01-01_12', partition: 11 }]);
});

test('a round\'s messages by partition, each partition\'s in their order', () => {
  const m = (topic: string, partition: number, next: bigint) => ({ topic, partition, next });
  const grouped = byPartition([m('a', 0, 1n), m('a', 1, 1n), m('a', 0, 2n), m('b', 0, 5n), m('a', 0, 3n)]);
  assert.deepEqual([...grouped.keys()], [positionKey('a', 0), positionKey('a', 1), positionKey('b', 0)]);
  assert.deepEqual(grouped.get(positionKey('a', 0))!.map((x) => x.next), [1n, 2n, 3n]);
});

test('each upstream partition has a transactional id of its own, under the group\'s', () => {
  assert.equal(partitionTransactionalId('fink-stream2science', 'ztf_20260120_programid1', 3), 'fink-stream2science-fink-stream2science-ztf_20260120_programid1-3');
  assert.notEqual(partitionTransactionalId('g', 't', 1), partitionTransactionalId('g', 't', 11));
});

function settingsOf(env: Record<string, string>, instanceId?: string) {
  return stream2scienceSettings(loadConfig({ env: testEnv({ UPSTREAM_SERVERS: 'localhost:9092', UPSTREAM_STATE_DIR: '/tmp/s2s', SCIENCE_DB_PATH: '/tmp/s2s-db', ...env }) }), { instanceId });
}

test('shared mode with the SQLite store is refused in one line that names UPSTREAM_INSTANCE_ID and SCIENCE_STORE', () => {
  assert.throws(() => settingsOf({ UPSTREAM_INSTANCE_ID: 'host-a' }), (err: unknown) => err instanceof UsageError && /^UPSTREAM_INSTANCE_ID \(host-a\) .*set SCIENCE_STORE=kafka/.test(err.message) && !err.message.includes('\n'));
  assert.throws(() => settingsOf({}, 'host-b'), /UPSTREAM_INSTANCE_ID \(host-b\)/);
});

test('the instance id: the flag over the key; unset, one instance reads every partition', () => {
  assert.equal(settingsOf({ SCIENCE_STORE: 'kafka' }).instanceId, undefined);
  assert.equal(settingsOf({ SCIENCE_STORE: 'kafka', UPSTREAM_INSTANCE_ID: 'host-a' }).instanceId, 'host-a');
  assert.equal(settingsOf({ SCIENCE_STORE: 'kafka', UPSTREAM_INSTANCE_ID: 'host-a' }, 'host-b').instanceId, 'host-b');
});

test('the lag of partitions given up to another instance is no longer reported', () => {
  const metrics = new Stream2ScienceMetrics();
  metrics.setLag('ztf_a', 0, 5);
  metrics.setLag('ztf_a', 1, 7);
  metrics.keepLag(new Set([positionKey('ztf_a', 1)]));
  assert.equal(metrics.totalLag(), 7);
  assert.doesNotMatch(metrics.render(), /partition="0"/);
});
