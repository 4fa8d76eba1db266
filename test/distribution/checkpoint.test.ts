// The checkpoint is not trusted blindly: only well-formed checkpoints written in a transaction
// count, one beyond the science database's head is refused, and a night's store replaced under
// the running service is noticed rather than read at the old position.
import assert from 'node:assert/strict';
import { renameSync, rmSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Producer } from '@platformatic/kafka';
import { checkpointMessage, parseCheckpoint, readCheckpoint } from '../../src/distribution/checkpoint.ts';
import { runDistribution } from '../../src/distribution/service.ts';
import { distributionSettings } from '../../src/distribution/settings.ts';
import { kafkaClientOptions } from '../../src/kafka/client-options.ts';
import { nightFile } from '../../src/sciencedb/store.ts';
import { simulateIntoDb } from '../../src/sciencedb/simulate.ts';
import { tempDir } from '../helpers/temp.ts';
import { decodeWithKey, distributionSetup, readAll, spawnDistribution, waitForCommitted } from '../helpers/distribution.ts';
import { startTestCluster, type TestCluster } from '../helpers/kafka.ts';

const good = { checkpoint: { '20261101': 40 }, stores: { '20261101': 'ab12' }, alerts: 40, at: '2026-11-01T00:00:00.000Z' };

describe('parseCheckpoint', () => {
  test('accepts what the service writes', () => {
    assert.deepEqual(parseCheckpoint(JSON.stringify(good)), good);
  });
  const bad: [string, string, RegExp][] = [
    ['not JSON', '{"checkpoint":', /not JSON/],
    ['an array', '[1,2]', /not a JSON object/],
    ['no checkpoint', JSON.stringify({ ...good, checkpoint: undefined }), /checkpoint/],
    ['a night that is not a date', JSON.stringify({ ...good, checkpoint: { tonight: 3 } }), /tonight/],
    ['a negative sequence', JSON.stringify({ ...good, checkpoint: { '20261101': -1 } }), /20261101/],
    ['a sequence that is not whole', JSON.stringify({ ...good, checkpoint: { '20261101': 1.5 } }), /20261101/],
    ['stores that are not strings', JSON.stringify({ ...good, stores: { '20261101': 7 } }), /stores/],
    ['no alert count', JSON.stringify({ ...good, alerts: 'many' }), /alerts/],
  ];
  for (const [name, text, reason] of bad) {
    test(`refuses ${name}, saying why`, () => {
      const result = parseCheckpoint(text);
      assert.equal(typeof result, 'string');
      assert.match(result as string, reason);
    });
  }
});

describe('the checkpoint on a real broker', () => {
  let cluster: TestCluster;
  const dirs: string[] = [];
  before(async () => {
    cluster = await startTestCluster();
  });
  after(async () => {
    await cluster.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  let n = 0;
  function setupWith(overrides: Record<string, string> = {}) {
    const setup = distributionSetup(cluster, { DISTRIBUTION_TOPICS: 'none', DISTRIBUTION_BATCH: '25', DISTRIBUTION_TEST_TOPIC: `checkpoint_test_${++n}`, ...overrides });
    dirs.push(join(setup.dbDir, '..'));
    return setup;
  }

  test('records that are not checkpoints of the service are named and passed over; nothing is sent twice', async () => {
    const setup = setupWith();
    simulateIntoDb(setup.dbDir, { profile: 'ztf-light', seed: 5, night: '20261101' }, 100);
    await runDistribution(distributionSettings(setup.config), { untilCaughtUp: true });
    const topic = setup.config.require('DISTRIBUTION_CHECKPOINT_TOPIC');
    const id = setup.config.require('DISTRIBUTION_ID');
    // What a careless or hostile writer of the topic could leave, outside any transaction.
    const producer = new Producer({ clientId: 'forger', ...kafkaClientOptions(setup.config) });
    const forged = checkpointMessage(topic, id, { ...good, checkpoint: { '20261101': 5 }, alerts: 5 });
    await producer.send({ messages: [forged, { ...forged, value: Buffer.from('{oops') }, { ...forged, value: undefined }] });
    await producer.close();
    const { saved, ignored } = await readCheckpoint(kafkaClientOptions(setup.config), topic, id);
    assert.equal(saved?.alerts, 100, 'the last checkpoint the service committed');
    assert.deepEqual(ignored.map((r) => r.reason), ['not written in a transaction', 'not written in a transaction', 'not written in a transaction']);

    simulateIntoDb(setup.dbDir, { profile: 'ztf-light', seed: 6, night: '20261101' }, 30);
    const logs: string[] = [];
    const summary = await runDistribution(distributionSettings(setup.config), { untilCaughtUp: true, log: (_l, message, fields) => logs.push(`${message} ${Object.entries(fields ?? {}).map(([k, v]) => `${k}=${String(v)}`).join(' ')}`) });
    assert.equal(summary.alerts, 30, 'only the new alerts');
    assert.equal(logs.filter((l) => l.includes('not a checkpoint of this service')).length, 3, logs.join('\n'));
    const candids = (await readAll(setup.config, setup.config.require('DISTRIBUTION_TEST_TOPIC'))).map((m) => decodeWithKey(m).candid);
    assert.equal(candids.length, 130);
    assert.equal(new Set(candids).size, 130, 'each alert once');
  });

  test('a checkpoint beyond the head of the science database is refused, saying what to do', async () => {
    const setup = setupWith();
    simulateIntoDb(setup.dbDir, { profile: 'ztf-light', seed: 7, night: '20261102' }, 60);
    await runDistribution(distributionSettings(setup.config), { untilCaughtUp: true });
    // The same store, but its last 40 alerts lost (a power cut before they reached the disk, an
    // older copy restored): the checkpoint applies to it and points past its last alert.
    const db = new DatabaseSync(nightFile(setup.dbDir, '20261102'));
    db.exec('DELETE FROM alerts WHERE seq > 20');
    db.close();
    await assert.rejects(runDistribution(distributionSettings(setup.config), { untilCaughtUp: true }), (err: Error) => /night 20261102 was distributed up to alert 60/.test(err.message) && /holds 20 alerts/.test(err.message) && /DISTRIBUTION_ID/.test(err.message));
  });

  test('a night replaced under the running service is noticed: the new store goes out from its first alert', async () => {
    const setup = setupWith({ DISTRIBUTION_POLL_MS: '100' });
    simulateIntoDb(setup.dbDir, { profile: 'ztf-light', seed: 8, night: '20261103' }, 50);
    const service = spawnDistribution(setup.env);
    try {
      assert.equal(await waitForCommitted(setup, 50), 50, service.output());
      // Another store of the same night (ingested again elsewhere), moved into place.
      const other = tempDir('replacement');
      dirs.push(other);
      simulateIntoDb(other, { profile: 'ztf-light', seed: 9, night: '20261103' }, 80);
      renameSync(nightFile(other, '20261103'), nightFile(setup.dbDir, '20261103'));
      assert.equal(await waitForCommitted(setup, 130), 130, service.output());
      assert.match(service.output(), /was replaced while it was being read/);
    } finally {
      service.child.kill('SIGTERM');
      await service.exited;
    }
    const candids = (await readAll(setup.config, setup.config.require('DISTRIBUTION_TEST_TOPIC'))).map((m) => decodeWithKey(m).candid);
    assert.equal(candids.length, 130, 'the 50 of the first store and all 80 of the new one');
  });
});
