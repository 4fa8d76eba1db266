// ZTF and Rubin alerts through one distribution: batches that mix the surveys, built in one pass,
// each filter seeing only its own survey's alerts, Rubin's topics named _lsst, every alert on the
// test topic, and one object's alerts on one partition.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { viewAlert, type Survey } from '../../src/alert/survey.ts';
import { packageRoot } from '../../src/config/config.ts';
import { partitionOf } from '../../src/kafka/partitioner.ts';
import { buildBatch, type TopicTarget } from '../../src/distribution/batch.ts';
import { accepts, loadFilters, type Filter } from '../../src/distribution/filters.ts';
import { runDistribution } from '../../src/distribution/service.ts';
import { distributionSettings } from '../../src/distribution/settings.ts';
import { topicName } from '../../src/distribution/topics.ts';
import { WireSchemas } from '../../src/distribution/wire.ts';
import type { ConsumedMessage } from '../../src/kafka/topic-reader.ts';
import { openReader, type StoredAlert } from '../../src/sciencedb/reader.ts';
import { createSimulation } from '../../src/sciencedb/simulate.ts';
import type { AnyProfile } from '../../src/sciencedb/simulation.ts';
import { ScienceWriter, type NewAlert } from '../../src/sciencedb/store.ts';
import { decodeWithKey, distributionSetup, readAll } from '../helpers/distribution.ts';
import { withTestCluster, type TestCluster } from '../helpers/kafka.ts';
import { readStored } from '../helpers/stored.ts';
import { tempDir } from '../helpers/temp.ts';
import { plain } from '../helpers/values.ts';

const NIGHT = '20261110';

/** Alerts of several simulations, interleaved one by one, so that every batch mixes the surveys. */
function mixedAlerts(runs: readonly { profile: AnyProfile; seed: number; count: number }[]): NewAlert[] {
  const sims = runs.map((r) => ({ sim: createSimulation({ profile: r.profile, seed: r.seed, night: NIGHT }), left: r.count }));
  const out: NewAlert[] = [];
  while (sims.some((s) => s.left > 0)) {
    for (const s of sims) {
      if (s.left === 0) continue;
      s.left--;
      out.push(s.sim.next());
    }
  }
  return out;
}

function storeAll(dir: string, alerts: readonly NewAlert[]): StoredAlert[] {
  const writer = new ScienceWriter(dir);
  writer.write(alerts);
  writer.close();
  return readStored(dir);
}

/** The survey, id and object key of a message, from the alert it carries. */
function identify(message: ConsumedMessage): { survey: Survey; id: bigint; objectKey: string } {
  const value = decodeWithKey(message);
  const survey: Survey = 'diaSourceId' in value ? 'lsst' : 'ztf';
  const view = viewAlert(survey, value);
  return { survey, id: view.alertId, objectKey: view.objectKey };
}

const byId = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0);

describe('ZTF and Rubin alerts in one distribution', () => {
  test('a mixed batch: each filter sees only its survey, partitions follow the object key', async () => {
    const dir = tempDir('surveys-batch');
    const stored = storeAll(dir, mixedAlerts([{ profile: 'ztf-light', seed: 1, count: 30 }, { profile: 'lsst-light', seed: 2, count: 30 }]));
    assert.deepEqual(stored.slice(0, 4).map((a) => a.survey), ['ztf', 'lsst', 'ztf', 'lsst']);
    const reader = openReader(dir);
    // Each filter would throw on the other survey's fields: it must never be handed one.
    const ztf = { name: 'named', survey: 'ztf', description: '', file: 'named.ts', filter: (a) => a.objectId.startsWith('ZTF') } satisfies Filter;
    const lsst = { name: 'sourced', survey: 'lsst', description: '', file: 'sourced.ts', filter: (a) => a.diaSourceId > 0n && a.band!.length === 1 } satisfies Filter;
    const target = (topic: string, filter: Filter | null): TopicTarget => ({ plan: { topic, filter, drop: [] }, partitions: 5, maxMessageBytes: 10_000_000 });
    const batch = buildBatch(stored, [target('all', null), target('named_ztf', ztf), target('sourced_lsst', lsst)], new WireSchemas((id) => reader.schemaJson(id)), 'stop');
    assert.deepEqual(batch.filterErrors, []);
    const topicOf = (t: string) => batch.messages.filter((m) => m.topic === t);
    assert.equal(topicOf('all').length, 60);
    assert.equal(topicOf('named_ztf').length, 30);
    assert.equal(topicOf('sourced_lsst').length, 30);
    const all = topicOf('all');
    stored.forEach((alert, i) => assert.equal(all[i]!.partition, partitionOf(alert.objectKey, 5), `alert ${i} (${alert.survey})`));
    reader.close();
  });
});

describe('ZTF and Rubin alerts through the service, on a real broker', () => {
  let cluster: TestCluster;
  withTestCluster((started) => {
    cluster = started;
  });

  test("mixed batches in one pass: distribution_test gets every alert, each topic exactly its filter's, one object per partition", async () => {
    const setup = distributionSetup(cluster, { SUBSTREAM_PREFIX: 'mix_', DISTRIBUTION_BATCH: '100' });
    const runs = [{ profile: 'ztf-light', seed: 5, count: 150 }, { profile: 'lsst', seed: 6, count: 40 }, { profile: 'lsst-light', seed: 7, count: 160 }] as const;
    const stored = storeAll(setup.dbDir, mixedAlerts(runs));
    assert.equal(stored.length, 350);
    const summary = await runDistribution(distributionSettings(setup.config), { untilCaughtUp: true });
    assert.equal(summary.alerts, 350);
    assert.equal(summary.batches, 4, 'one transaction per batch of 100, whatever its surveys');
    assert.equal(summary.filterErrors, 0);

    const test = (await readAll(setup.config, 'distribution_test')).map(identify);
    assert.deepEqual(test.map((m) => `${m.survey}:${m.id}`).sort(), stored.map((a) => `${a.survey}:${a.alertId}`).sort());

    const filters = await loadFilters(join(packageRoot(), 'filters'));
    assert.ok(filters.some((f) => f.survey === 'lsst') && filters.some((f) => f.survey === 'ztf'));
    for (const f of filters) {
      const topic = topicName('mix_', f);
      assert.ok(topic.endsWith(`_${f.survey}`));
      const messages = await readAll(setup.config, topic);
      const got = messages.map(identify);
      assert.ok(got.every((m) => m.survey === f.survey), `${topic}: only ${f.survey} alerts`);
      const want = stored.filter((a) => accepts(f, a)).map((a) => a.alertId).sort(byId);
      assert.deepEqual(got.map((m) => m.id).sort(byId), want, `${topic}: exactly its filter's alerts`);
      assert.ok(want.length > 0, `${topic}: the seeds give it some alerts`);
      // One object, one partition: the one its key hashes to.
      const partitions = new Map<string, Set<number>>();
      messages.forEach((m, i) => {
        assert.equal(m.partition, partitionOf(got[i]!.objectKey, 3), `${topic}: ${got[i]!.objectKey}`);
        partitions.set(got[i]!.objectKey, (partitions.get(got[i]!.objectKey) ?? new Set()).add(m.partition));
      });
      assert.ok([...partitions.values()].every((p) => p.size === 1));
    }

    // Rubin's light topic: no cutouts, no histories, everything else as on the full topic.
    const full = new Map((await readAll(setup.config, 'distribution_test')).map((m) => [String(identify(m).id) + identify(m).survey, decodeWithKey(m)]));
    const light = await readAll(setup.config, 'mix_rubin_light_lsst');
    assert.equal(light.length, 200);
    for (const m of light) {
      const alert = decodeWithKey(m);
      for (const dropped of ['cutoutDifference', 'cutoutScience', 'cutoutTemplate', 'prvDiaSources', 'prvDiaForcedSources']) assert.equal(dropped in alert, false, dropped);
      const whole = full.get(`${alert.diaSourceId}lsst`)!;
      assert.deepEqual(plain(alert.diaSource), plain(whole.diaSource));
      assert.deepEqual(plain(alert.clf), plain(whole.clf));
      assert.ok(m.value!.length < 4000, `a light Rubin alert is small (${m.value!.length} bytes)`);
    }
    const heavy = [...full.values()].filter((a) => Buffer.isBuffer(a.cutoutScience));
    assert.equal(heavy.length, 40, 'the full Rubin alerts keep their plain FITS cutouts');
    for (const a of heavy) assert.equal((a.cutoutScience as Buffer).subarray(0, 6).toString('latin1'), 'SIMPLE');
  });
});
