// fink db prune: old nights go, whole, except one the distribution has not finished.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nightAgeDays } from '../../src/sciencedb/prune.ts';
import { listNights } from '../../src/sciencedb/store.ts';
import { simulateIntoDb } from '../../src/sciencedb/simulate.ts';
import { runCli } from '../helpers/cli.ts';
import { distributionSetup } from '../helpers/distribution.ts';
import { freePortPair, withTestCluster, type TestCluster } from '../helpers/kafka.ts';

let cluster: TestCluster;
withTestCluster((started) => {
  cluster = started;
});

test('the age of a night in whole days', () => {
  assert.equal(nightAgeDays('20261125', new Date('2026-11-25T23:00:00Z')), 0);
  assert.equal(nightAgeDays('20261124', new Date('2026-11-25T00:00:00Z')), 1);
  assert.equal(nightAgeDays('20251125', new Date('2026-11-25T12:00:00Z')), 365);
});

test('removes old nights the distribution has finished, keeps an old one it has not and the recent ones; --dry-run removes nothing', async () => {
  const setup = distributionSetup(cluster, { DISTRIBUTION_TOPICS: 'none' });
  const today = new Date().toISOString().slice(0, 10).replaceAll('-', '');
  simulateIntoDb(setup.dbDir, { profile: 'ztf-light', seed: 1, night: '20200101' }, 30);
  simulateIntoDb(setup.dbDir, { profile: 'ztf-light', seed: 2, night: '20200102' }, 30);
  simulateIntoDb(setup.dbDir, { profile: 'ztf-light', seed: 3, night: today }, 30);
  const run = runCli('fink', ['start', 'distribution', '--until-caught-up'], setup.env);
  assert.equal(run.status, 0, run.stderr);
  // New alerts of an old night, not yet distributed.
  simulateIntoDb(setup.dbDir, { profile: 'ztf-light', seed: 4, night: '20200102' }, 5);

  const dry = runCli('fink', ['db', 'prune', '--older-than', '30', '--dry-run'], setup.env);
  assert.equal(dry.status, 0, dry.stderr);
  assert.match(dry.stdout, /would remove 20200101/);
  assert.deepEqual(listNights(setup.dbDir), ['20200101', '20200102', today]);

  const prune = runCli('fink', ['db', 'prune', '--older-than', '30'], setup.env);
  assert.equal(prune.status, 0, prune.stderr);
  assert.match(prune.stdout, /removed 20200101/);
  assert.match(prune.stdout, /kept\s+20200102: the distribution .* has not sent all of it/);
  assert.deepEqual(listNights(setup.dbDir), ['20200102', today]);
});

test('with Kafka down nothing is removed, and one line says why', async () => {
  const port = await freePortPair(1);
  const setup = distributionSetup(cluster, { DISTRIBUTION_SERVERS: `127.0.0.1:${port}` });
  simulateIntoDb(setup.dbDir, { profile: 'ztf-light', seed: 5, night: '20200103' }, 5);
  const prune = runCli('fink', ['db', 'prune', '--older-than', '30'], setup.env);
  assert.equal(prune.status, 1);
  assert.match(prune.stderr, /Kafka does not answer at .*nothing was removed/);
  assert.deepEqual(listNights(setup.dbDir), ['20200103']);
});
