// stream2science's store on the science log (LogPositionStore) against a real Kafka: positions read
// back only once the group's writer session is open, so that a transaction an earlier instance left
// open is never seen, and a second store of the group fencing the first.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfig } from '../../src/config/config.ts';
import { readTopic } from '../../src/kafka/topic-reader.ts';
import { TRANSACTION_TIMEOUT_MS } from '../../src/kafka/transactional-producer.ts';
import { FencedError } from '../../src/kafka/transactional-session.ts';
import { decodeLogAlert, scienceTopic } from '../../src/sciencedb/log-format.ts';
import { LogPositionStore, positionRecordKey, positionRecordValue, stream2scienceTransactionalId } from '../../src/sciencedb/log-positions.ts';
import { scienceLogSettings, type ScienceLogSettings } from '../../src/sciencedb/log-settings.ts';
import { ScienceLogWriter } from '../../src/sciencedb/log-writer.ts';
import { createSimulation } from '../../src/sciencedb/simulate.ts';
import type { NewAlert } from '../../src/sciencedb/store.ts';
import { testEnv } from '../helpers/cli.ts';
import { withTestCluster, type TestCluster } from '../helpers/kafka.ts';

let cluster: TestCluster;
let settings: ScienceLogSettings;

withTestCluster((started) => {
  cluster = started;
  settings = scienceLogSettings(loadConfig({ env: testEnv({ ...cluster.env, SCIENCE_STORE: 'kafka', SCIENCE_TOPIC_PREFIX: 'store_', SCIENCE_PARTITIONS: '2' }) }));
});

function alerts(count: number, seed: number): NewAlert[] {
  const simulation = createSimulation({ profile: 'ztf-light', seed, night: '20260126' });
  return Array.from({ length: count }, () => simulation.next());
}

async function loggedIds(): Promise<bigint[]> {
  const ids: bigint[] = [];
  for await (const m of readTopic(settings.connection, scienceTopic('store_', 'ztf'))) ids.push(decodeLogAlert('ztf', m.value!, `@${m.offset}`).alertId);
  return ids.sort();
}

describe('stream2science store on the science log', () => {
  test('a transaction left open by an earlier instance (killed mid-round) is aborted before the positions are read: neither its alerts nor its positions are ever seen', async () => {
    const [kept, lost] = [alerts(3, 1), alerts(2, 2)];
    const first = new LogPositionStore(settings, 'positions_open', 'g1');
    assert.deepEqual(await first.positions(), new Map());
    assert.deepEqual(await first.apply([{ topic: 'up', partition: 0, next: 3n, alerts: kept }], 0), { inserted: 3, transactions: 1 });
    await first.close();
    // An instance that sent a round and died before committing: its transaction stays open.
    const dying = new ScienceLogWriter(settings, { role: 'test', transactionalId: stream2scienceTransactionalId('g1') });
    await dying.send(lost, [{ topic: 'positions_open', partition: 0, key: positionRecordKey('g1', 'up', 0), value: positionRecordValue(5n, 0) }]);
    const next = new LogPositionStore(settings, 'positions_open', 'g1');
    try {
      const started = Date.now();
      const positions = await next.positions();
      // Its session's start aborted the open transaction: the reader did not wait for the coordinator's timeout.
      assert.ok(Date.now() - started < TRANSACTION_TIMEOUT_MS, `positions read after ${Date.now() - started} ms`);
      assert.deepEqual([...positions.values()], [{ topic: 'up', partition: 0, next: 3n, epoch: 0 }]);
      assert.deepEqual(await loggedIds(), kept.map((a) => a.alertId).sort());
    } finally {
      await next.close();
      await dying.close();
    }
  });

  test('a second store of the group fences the first: its write fails, reading its positions back says it was fenced, and nothing of it shows', async () => {
    const [one, two, three] = [alerts(2, 3), alerts(2, 4), alerts(2, 5)];
    const before = await loggedIds();
    const first = new LogPositionStore(settings, 'positions_fence', 'g2');
    await first.positions();
    await first.apply([{ topic: 'up', partition: 1, next: 2n, alerts: one }], 0);
    const second = new LogPositionStore(settings, 'positions_fence', 'g2');
    try {
      assert.deepEqual([...(await second.positions()).values()], [{ topic: 'up', partition: 1, next: 2n, epoch: 0 }]);
      await assert.rejects(first.apply([{ topic: 'up', partition: 1, next: 4n, alerts: two }], 0));
      await assert.rejects(first.afterFailure(), FencedError);
      await second.apply([{ topic: 'up', partition: 1, next: 4n, alerts: three }], 0);
      assert.deepEqual([...(await second.positions()).values()], [{ topic: 'up', partition: 1, next: 4n, epoch: 0 }]);
      assert.deepEqual(await loggedIds(), [...before, ...one.map((a) => a.alertId), ...three.map((a) => a.alertId)].sort());
    } finally {
      await first.close();
      await second.close();
    }
  });
});
