import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadFilters } from '../../src/distribution/filters.ts';
import { readCheckpoint } from '../../src/distribution/checkpoint.ts';
import { runDistribution } from '../../src/distribution/service.ts';
import { planTopics } from '../../src/distribution/topics.ts';
import { createSimulation, simulateIntoDb } from '../../src/sciencedb/simulate.ts';
import { runCli } from '../helpers/cli.ts';
import { decodeWithKey, distributionSetup, readAll, spawnDistribution, waitForCommitted, type DistributionSetup } from '../helpers/distribution.ts';
import { startTestCluster, type TestCluster } from '../helpers/kafka.ts';

const NIGHT = '20261123';

/** What each topic must hold exactly once: the candids the filters select among the simulated alerts. */
async function expectedTopics(setup: DistributionSetup, runs: { seed: number; count: number }[]): Promise<Map<string, Set<bigint>>> {
  const plans = planTopics(setup.config, await loadFilters(setup.config.require('FILTERS_DIR')));
  const expected = new Map(plans.map((p) => [p.topic, new Set<bigint>()]));
  for (const { seed, count } of runs) {
    const sim = createSimulation({ profile: 'ztf-light', seed, night: NIGHT });
    for (let i = 0; i < count; i++) {
      const fields = sim.next().fields;
      for (const p of plans) if (p.filter === null || p.filter.filter(fields)) expected.get(p.topic)!.add(fields.candid);
    }
  }
  return expected;
}

async function assertExactlyOnce(setup: DistributionSetup, expected: Map<string, Set<bigint>>): Promise<void> {
  for (const [topic, want] of expected) {
    const candids = (await readAll(setup.config, topic)).map((m) => decodeWithKey(m).candid as bigint);
    const unique = new Set(candids);
    assert.equal(candids.length, unique.size, `${topic}: no alert twice (${candids.length - unique.size} duplicates)`);
    assert.equal(unique.size, want.size, `${topic}: every matching alert (${unique.size} of ${want.size})`);
    for (const c of want) assert.ok(unique.has(c), `${topic}: alert ${c} present`);
  }
}

describe('exactly once', () => {
  let cluster: TestCluster;
  beforeEach(async () => {
    cluster = await startTestCluster();
  });
  afterEach(async () => cluster.stop());

  test('the service killed with SIGKILL at random moments, restarted: every alert exactly once on every matching topic', async () => {
    const setup = distributionSetup(cluster, { DISTRIBUTION_BATCH: '40' });
    const count = 6000;
    simulateIntoDb(setup.dbDir, { profile: 'ztf-light', seed: 11, night: NIGHT }, count);
    const progress: number[] = [];
    for (let kill = 0; kill < 4; kill++) {
      const run = spawnDistribution(setup.env, ['--until-caught-up']);
      // Kill somewhere inside the run: after the session opened, at a random moment.
      const opened = Date.now();
      while (!/resuming|no checkpoint yet/.test(run.output()) && Date.now() - opened < 60_000) await sleep(20);
      await sleep(Math.floor(Math.random() * 600));
      run.child.kill('SIGKILL');
      await run.exited;
      progress.push((await readCheckpoint(setup.config, setup.config.require('DISTRIBUTION_CHECKPOINT_TOPIC'), setup.env.DISTRIBUTION_ID!))?.alerts ?? 0);
    }
    assert.ok(progress.some((n) => n > 0 && n < count), `at least one kill landed mid-run (committed alerts after each kill: ${progress.join(', ')})`);
    const finish = runCli('fink', ['start', 'distribution', '--until-caught-up'], setup.env);
    assert.equal(finish.status, 0, finish.stderr);
    await assertExactlyOnce(setup, await expectedTopics(setup, [{ seed: 11, count }]));
  });

  test('a second instance with the same id fences the first; nothing is lost or doubled', async (t) => {
    const setup = distributionSetup(cluster, { DISTRIBUTION_BATCH: '50' });
    simulateIntoDb(setup.dbDir, { profile: 'ztf-light', seed: 12, night: NIGHT }, 1000);
    const first = new AbortController();
    const second = new AbortController();
    // Whatever the outcome, neither instance outlives the test.
    t.after(() => {
      first.abort();
      second.abort();
    });
    const firstRun = runDistribution(setup.config, { signal: first.signal }).then(
      () => 'returned',
      (err: Error) => err.message,
    );
    await sleep(1500);
    const secondRun = runDistribution(setup.config, { signal: second.signal });
    simulateIntoDb(setup.dbDir, { profile: 'ztf-light', seed: 13, night: NIGHT }, 1000);
    const firstOutcome = await Promise.race([firstRun, sleep(30_000).then(() => 'still running')]);
    assert.match(firstOutcome, /another instance with DISTRIBUTION_ID=.* fenced this one/);
    // The second carries on with the alerts ingested meanwhile.
    assert.equal(await waitForCommitted(setup, 2000), 2000);
    second.abort();
    await secondRun;
    await assertExactlyOnce(setup, await expectedTopics(setup, [{ seed: 12, count: 1000 }, { seed: 13, count: 1000 }]));
  });

  test('the broker killed and restarted under a running service: one clear log line, then everything exactly once', async (t) => {
    const setup = distributionSetup(cluster, { DISTRIBUTION_BATCH: '100' });
    simulateIntoDb(setup.dbDir, { profile: 'ztf-light', seed: 14, night: NIGHT }, 3000);
    const run = spawnDistribution(setup.env);
    t.after(() => run.child.kill('SIGKILL'));
    const started = Date.now();
    while (!/resuming|no checkpoint yet/.test(run.output()) && Date.now() - started < 60_000) await sleep(20);
    assert.equal(await waitForCommitted(setup, 3000), 3000);
    // The broker dies (SIGKILL) while new alerts arrive, stays away, then comes back.
    await cluster.killBroker(0);
    simulateIntoDb(setup.dbDir, { profile: 'ztf-light', seed: 15, night: NIGHT }, 2000);
    while (!/Kafka unavailable/.test(run.output())) await sleep(100);
    await sleep(2000);
    await cluster.restart();
    assert.equal(await waitForCommitted(setup, 5000), 5000);
    const stop = runCli('fink', ['stop', 'distribution'], setup.env);
    assert.equal(stop.status, 0, stop.stderr);
    assert.equal(await run.exited, 0, run.output());
    const out = run.output();
    assert.equal(out.match(/Kafka unavailable/g)?.length ?? 0, 1, `one line for the outage:\n${out}`);
    assert.match(out, /Kafka is back/);
    await assertExactlyOnce(setup, await expectedTopics(setup, [{ seed: 14, count: 3000 }, { seed: 15, count: 2000 }]));
  });
});
