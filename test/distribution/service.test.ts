import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { packageRoot } from '../../src/config/config.ts';
import { loadFilters } from '../../src/distribution/filters.ts';
import { Metrics } from '../../src/distribution/metrics.ts';
import { serveMetrics } from '../../src/metrics-endpoint.ts';
import { runDistribution } from '../../src/distribution/service.ts';
import { withAdmin, kafkaClientOptions } from '../../src/kafka/client-options.ts';
import { ensureTopic } from '../../src/kafka/topics.ts';
import { openReader } from '../../src/sciencedb/reader.ts';
import { createSimulation, simulateIntoDb } from '../../src/sciencedb/simulate.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/temp.ts';
import { decodeWithKey, distributionSetup, readAll, SESSION_OPEN, spawnDistribution, waitForCommitted } from '../helpers/distribution.ts';
import { withTestCluster, type TestCluster } from '../helpers/kafka.ts';
import { plain } from '../helpers/values.ts';
import { distributionSettings } from '../../src/distribution/settings.ts';
import { accepts } from '../../src/distribution/filters.ts';

describe('the distribution service', () => {
  let cluster: TestCluster;
  withTestCluster((started) => {
    cluster = started;
  });

  test('science topics get exactly the alerts their filter selects; the light topic drops the cutouts and is compressed with zstd, whole alerts with lz4', async () => {
    const setup = distributionSetup(cluster, { SUBSTREAM_PREFIX: 'sel_' });
    simulateIntoDb(setup.dbDir, { profile: 'ztf', seed: 21, night: '20261110' }, 600);
    const summary = await runDistribution(distributionSettings(setup.config), { untilCaughtUp: true });
    assert.equal(summary.alerts, 600);
    const filters = await loadFilters(join(packageRoot(), 'filters'));
    assert.deepEqual(filters.filter((f) => f.survey === 'ztf').map((f) => f.name), ['early_sn_candidates', 'light', 'microlensing', 'sn_candidates', 'sso_candidates']);
    const sim = createSimulation({ profile: 'ztf', seed: 21, night: '20261110' });
    const alerts = Array.from({ length: 600 }, () => sim.next());
    // Rubin's filters get none of these ZTF alerts (test/distribution/surveys.test.ts mixes both).
    for (const f of filters.filter((f) => f.survey === 'lsst')) assert.deepEqual(await readAll(setup.config, `sel_${f.name}_lsst`), [], `topic sel_${f.name}_lsst`);
    for (const f of filters.filter((f) => f.survey === 'ztf')) {
      const want = alerts.filter((a) => accepts(f, a)).map((a) => a.alertId).sort();
      const messages = await readAll(setup.config, `sel_${f.name}_ztf`);
      assert.deepEqual(messages.map((m) => decodeWithKey(m).candid as bigint).sort(), want, `topic sel_${f.name}_ztf`);
      if (f.name !== 'light') assert.ok(want.length > 0 && want.length < 120, `${f.name}: a small fraction (${want.length} of 600)`);
    }
    const light = await readAll(setup.config, 'sel_light_ztf');
    const whole = await readAll(setup.config, 'distribution_test');
    // The record batches as the broker keeps them: the codec the service chose per topic.
    assert.deepEqual(new Set(light.map((m) => m.codec)), new Set([setup.config.require('DISTRIBUTION_LIGHT_COMPRESSION')]), 'the light topic: DISTRIBUTION_LIGHT_COMPRESSION');
    assert.deepEqual(new Set(whole.map((m) => m.codec)), new Set([setup.config.require('DISTRIBUTION_COMPRESSION')]), 'whole alerts: DISTRIBUTION_COMPRESSION');
    assert.deepEqual([setup.config.require('DISTRIBUTION_COMPRESSION'), setup.config.require('DISTRIBUTION_LIGHT_COMPRESSION')], ['lz4', 'zstd'], 'the defaults');
    const full = new Map(whole.map((m) => [decodeWithKey(m).candid as bigint, decodeWithKey(m)]));
    for (const m of light) {
      const lightAlert = decodeWithKey(m);
      assert.equal('cutoutScience' in lightAlert, false);
      const fullAlert = full.get(lightAlert.candid as bigint)!;
      assert.ok(Buffer.isBuffer((fullAlert.cutoutScience as { stampData: Buffer }).stampData));
      assert.deepEqual(plain(lightAlert.candidate), plain(fullAlert.candidate), 'the other fields unchanged');
      assert.equal(lightAlert.rf_snia_vs_nonia, fullAlert.rf_snia_vs_nonia);
    }
    // The simulated alerts' wire value is the stored datum followed by the added values' datum.
    const reader = openReader(setup.dbDir);
    const stored = reader.read({}, 1).alerts[0]!;
    reader.close();
    const wire = (await readAll(setup.config, 'distribution_test')).find((m) => decodeWithKey(m).candid === stored.alertId)!;
    assert.ok(wire.value!.equals(Buffer.concat([stored.datum, stored.added!.datum])));
  });

  test('a filter that throws: the alert does not match, the error is logged with its candid and counted, the service goes on', async () => {
    const filtersDir = tempDir('filters');
    writeFileSync(join(filtersDir, 'fragile.ts'), [
      "export const description = 'throws on odd candids';",
      'export function filter(alert: { candid: bigint }): boolean {',
      "  if (alert.candid % 2n === 1n) throw new Error('boom');",
      '  return true;',
      '}',
    ].join('\n'));
    const setup = distributionSetup(cluster, { FILTERS_DIR: filtersDir, SUBSTREAM_PREFIX: 'fragile_', DISTRIBUTION_TOPICS: 'fragile' });
    simulateIntoDb(setup.dbDir, { profile: 'ztf-light', seed: 22, night: '20261110' }, 100);
    const run = runCli('fink', ['start', 'distribution', '--until-caught-up'], setup.env);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /distributed 100 alerts/);
    assert.match(run.stdout, /50 filter errors/);
    assert.match(run.stderr, /level=warn msg="filter threw: alert counted as not matching" filter=fragile candid=\d+ error=boom/);
    const matched = (await readAll(setup.config, 'fragile_fragile_ztf')).map((m) => decodeWithKey(m).candid as bigint);
    assert.equal(matched.length, 50);
    assert.ok(matched.every((c) => c % 2n === 0n));
  });

  test('an unknown name in DISTRIBUTION_TOPICS and a filter without the contract are named', () => {
    const setup = distributionSetup(cluster, { DISTRIBUTION_TOPICS: 'nosuch' });
    const run = runCli('fink', ['start', 'distribution', '--until-caught-up'], setup.env);
    assert.equal(run.status, 1);
    assert.match(run.stderr, /DISTRIBUTION_TOPICS names 'nosuch', but there is no filter nosuch\.ts/);
    const filtersDir = tempDir('badfilters');
    writeFileSync(join(filtersDir, 'broken.ts'), 'export const x = 1;\n');
    const bad = runCli('fink', ['start', 'distribution', '--until-caught-up'], distributionSetup(cluster, { FILTERS_DIR: filtersDir }).env);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /filter .*broken\.ts must export a function 'filter\(alert\)' and a string 'description'/);
  });

  test('an alert larger than its topic accepts: stop names its candid and commits nothing of the batch; skip records it and goes on', async () => {
    const small = distributionSetup(cluster, { SUBSTREAM_PREFIX: 'big_', DISTRIBUTION_TOPICS: 'light' });
    simulateIntoDb(small.dbDir, { profile: 'ztf', seed: 23, night: '20261110' }, 5);
    // distribution_test accepts 30 KB for this test: the 45 KB ztf alerts do not fit, their light version does.
    const setLimit = (value: string) =>
      withAdmin(kafkaClientOptions(small.config, 'admin'), (admin) => admin.alterConfigs({ resources: [{ resourceType: 2, resourceName: 'distribution_test', configs: [{ name: 'max.message.bytes', value }] }] }));
    await ensureTopic(kafkaClientOptions(small.config, 'admin'), 'distribution_test', { partitions: 3, replicationFactor: 1 });
    await setLimit('30000');
    try {
      const before = (await readAll(small.config, 'distribution_test')).length;
      const stop = runCli('fink', ['start', 'distribution', '--until-caught-up'], small.env);
      assert.equal(stop.status, 1);
      assert.match(stop.stderr, /alert \d+ \(ZTF\w+\) is \d+ bytes, more than topic distribution_test accepts \(max\.message\.bytes=30000\); nothing of its batch was committed/);
      assert.equal((await readAll(small.config, 'distribution_test')).length, before);
      assert.equal((await readAll(small.config, 'big_light_ztf')).length, 0, 'nothing of the batch on the other topics either');

      const skip = runCli('fink', ['start', 'distribution', '--until-caught-up'], { ...small.env, DISTRIBUTION_OVERSIZE: 'skip' });
      assert.equal(skip.status, 0, skip.stderr);
      assert.match(skip.stdout, /5 messages skipped as too large/);
      assert.match(skip.stderr, /level=warn msg="alert larger than the topic accepts: skipped" candid=\d+ topic=distribution_test/);
      const record = readFileSync(join(small.stateDir, 'skipped.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { candid: string; topic: string; bytes: number; limit: number });
      assert.equal(record.length, 5);
      assert.ok(record.every((r) => r.topic === 'distribution_test' && r.bytes > 30000 && r.limit === 30000 && /^\d+$/.test(r.candid)));
      assert.equal((await readAll(small.config, 'big_light_ztf')).length, 5, 'the light topic got them');
    } finally {
      await setLimit('1048588');
    }
  });

  // How soon alerts go out is measured by the benchmark (npm run bench), never by a timed test.
  test('continuous: new alerts go out as they arrive; fink stop distribution stops it gracefully; metrics are served', async (t) => {
    const setup = distributionSetup(cluster, { DISTRIBUTION_TOPICS: 'none', DISTRIBUTION_METRICS_PORT: '0' });
    mkdirSync(setup.dbDir, { recursive: true });
    simulateIntoDb(setup.dbDir, { profile: 'ztf', seed: 24, night: '20261111' }, 10);
    const run = spawnDistribution(setup.env);
    t.after(() => run.child.kill('SIGKILL'));
    assert.equal(await waitForCommitted(setup, 10), 10, run.output());
    const metricsUrl = /msg="metrics served" url=(\S+)/.exec(run.output())?.[1];
    assert.ok(metricsUrl !== undefined, run.output());
    // Alerts ingested one by one while it runs, each committed before the next arrives.
    for (let i = 0; i < 5; i++) {
      simulateIntoDb(setup.dbDir, { profile: 'ztf', seed: 25 + i, night: '20261111' }, 1);
      assert.equal(await waitForCommitted(setup, 11 + i), 11 + i, run.output());
    }
    const text = await (await fetch(metricsUrl)).text();
    assert.match(text, /fink_distribution_alerts_total 15/);
    assert.match(text, /fink_distribution_messages_total\{topic="distribution_test"\} 15/);
    assert.match(text, /fink_distribution_batch_seconds_count \d+/);
    const stop = runCli('fink', ['stop', 'distribution'], setup.env);
    assert.equal(stop.status, 0, stop.stderr);
    assert.match(stop.stdout, /stopped the distribution service \(pid \d+\)/);
    assert.equal(await run.exited, 0);
    assert.match(run.output(), /stopping after the batch in flight/);
    assert.match(runCli('fink', ['stop', 'distribution'], setup.env).stdout, /no distribution service .* is running/);
  });

  test('a second service with the same id on this machine is refused by its pid file', async (t) => {
    const setup = distributionSetup(cluster, { DISTRIBUTION_TOPICS: 'none' });
    const run = spawnDistribution(setup.env);
    t.after(() => run.child.kill('SIGKILL'));
    await run.waitForOutput(SESSION_OPEN, "the first service's producer session");
    const second = runCli('fink', ['start', 'distribution'], setup.env);
    assert.equal(second.status, 1);
    assert.match(second.stderr, /a distribution service with DISTRIBUTION_ID=.* already runs \(pid \d+\)/);
    run.child.kill('SIGTERM');
    assert.equal(await run.exited, 0);
  });

  test('metrics render in the Prometheus text format', async () => {
    const metrics = new Metrics();
    metrics.alerts = 3;
    metrics.countMessage('t', 100);
    metrics.countError('filter');
    const server = await serveMetrics(metrics, 0);
    const address = server.address() as { port: number };
    const text = await (await fetch(`http://127.0.0.1:${address.port}/metrics`)).text();
    server.close();
    assert.match(text, /# TYPE fink_distribution_bytes_total counter\nfink_distribution_bytes_total\{topic="t"\} 100/);
    assert.match(text, /fink_distribution_errors_total\{kind="filter"\} 1/);
  });
});
