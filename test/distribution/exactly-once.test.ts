import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { formatLine } from '../../src/log.ts';
import { runDistribution } from '../../src/distribution/service.ts';
import { simulateIntoDb } from '../../src/sciencedb/simulate.ts';
import { runCli } from '../helpers/cli.ts';
import { createTransactionalProducer } from '../../src/kafka/transactional-producer.ts';
import { kafkaClientOptions } from '../../src/kafka/client-options.ts';
import { committedAlerts, distributionSetup, SESSION_OPEN, spawnDistribution, waitForCommitted } from '../helpers/distribution.ts';
import { assertExactlyOnce, expectedTopics } from '../helpers/exactly-once.ts';
import { startTestCluster, type TestCluster } from '../helpers/kafka.ts';
import { distributionSettings } from '../../src/distribution/settings.ts';
import { seededRandom } from '../helpers/random.ts';
import { pausedPastItsTransaction } from '../helpers/transactions.ts';
import { waitFor } from '../helpers/wait.ts';

const NIGHT = '20261123';

describe('exactly once', () => {
  let cluster: TestCluster | undefined;
  beforeEach(async () => {
    cluster = await startTestCluster();
  });
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  test('the service killed with SIGKILL at random moments, restarted: every alert exactly once on every matching topic', async (t) => {
    const setup = distributionSetup(cluster!, { DISTRIBUTION_BATCH: '40' });
    const count = 6000;
    simulateIntoDb(setup.dbDir, { profile: 'ztf-light', seed: 11, night: NIGHT }, count);
    const random = seededRandom(t);
    const progress: number[] = [];
    for (let kill = 0; kill < 4; kill++) {
      const before = await committedAlerts(setup);
      const run = spawnDistribution(setup.env, ['--until-caught-up']);
      await run.waitForOutput(SESSION_OPEN, `run ${kill + 1}: its producer session`);
      // Every other kill lands after a commit of its own run (so some kill is surely mid-run), the
      // others anywhere from the session's start, the first transaction still open among them.
      if (kill % 2 === 0) await waitFor(`run ${kill + 1}: a commit`, async () => run.child.exitCode !== null || (await committedAlerts(setup)) > before, { everyMs: 100 });
      const delay = random.below(600);
      t.diagnostic(`run ${kill + 1}: SIGKILL ${delay} ms after ${kill % 2 === 0 ? 'its first commit' : 'its session opened'}`);
      await sleep(delay);
      run.child.kill('SIGKILL');
      await run.exited;
      progress.push(await committedAlerts(setup));
    }
    assert.ok(progress.some((n) => n > 0 && n < count), `at least one kill landed mid-run (committed alerts after each kill: ${progress.join(', ')})`);
    const finish = runCli('fink', ['start', 'distribution', '--until-caught-up'], setup.env);
    assert.equal(finish.status, 0, finish.stderr);
    await assertExactlyOnce(t, cluster!, setup, await expectedTopics(setup, NIGHT, [{ seed: 11, count }]));
  });

  test('a second instance with the same id fences the first; nothing is lost or doubled', async (t) => {
    const setup = distributionSetup(cluster!, { DISTRIBUTION_BATCH: '50' });
    simulateIntoDb(setup.dbDir, { profile: 'ztf-light', seed: 12, night: NIGHT }, 1000);
    const first = new AbortController();
    const second = new AbortController();
    // Whatever the outcome, neither instance outlives the test.
    t.after(() => {
      first.abort();
      second.abort();
    });
    const firstLines: string[] = [];
    const firstRun = runDistribution(distributionSettings(setup.config), { signal: first.signal, log: (level, message, fields) => firstLines.push(formatLine(level, message, fields)) }).then(
      () => 'returned',
      (err: Error) => err.message,
    );
    // The second must start after the first has its session, or there is nothing to fence.
    await waitFor('the first instance to open its producer session', () => firstLines.some((l) => SESSION_OPEN.test(l)), { detail: () => firstLines.join('\n') });
    const secondRun = runDistribution(distributionSettings(setup.config), { signal: second.signal });
    simulateIntoDb(setup.dbDir, { profile: 'ztf-light', seed: 13, night: NIGHT }, 1000);
    const firstOutcome = await Promise.race([firstRun, sleep(180_000, 'still running after 180 s', { ref: false })]);
    assert.match(firstOutcome, /another instance with DISTRIBUTION_ID=.* fenced this one/);
    // The second carries on with the alerts ingested meanwhile.
    assert.equal(await waitForCommitted(setup, 2000), 2000);
    second.abort();
    await secondRun;
    await assertExactlyOnce(t, cluster!, setup, await expectedTopics(setup, NIGHT, [{ seed: 12, count: 1000 }, { seed: 13, count: 1000 }]));
  });

  test('the broker killed and restarted under a running service: one clear log line, then everything exactly once', async (t) => {
    const setup = distributionSetup(cluster!, { DISTRIBUTION_BATCH: '100' });
    simulateIntoDb(setup.dbDir, { profile: 'ztf-light', seed: 14, night: NIGHT }, 3000);
    const run = spawnDistribution(setup.env);
    t.after(() => run.child.kill('SIGKILL'));
    await run.waitForOutput(SESSION_OPEN, "the service's producer session");
    assert.equal(await waitForCommitted(setup, 3000), 3000);
    // The broker dies (SIGKILL) while new alerts arrive, stays away, then comes back.
    await cluster!.killBroker(0);
    simulateIntoDb(setup.dbDir, { profile: 'ztf-light', seed: 15, night: NIGHT }, 2000);
    await run.waitForOutput(/Kafka unavailable/, 'the service to report the outage');
    // How long the outage lasts (the service retries meanwhile), not a wait for anything.
    await sleep(2000);
    await cluster!.restart();
    assert.equal(await waitForCommitted(setup, 5000), 5000);
    const stop = runCli('fink', ['stop', 'distribution'], setup.env);
    assert.equal(stop.status, 0, stop.stderr);
    assert.equal(await run.exited, 0, run.output());
    const out = run.output();
    assert.equal(out.match(/Kafka unavailable/g)?.length ?? 0, 1, `one line for the outage:\n${out}`);
    assert.match(out, /Kafka is back/);
    await assertExactlyOnce(t, cluster!, setup, await expectedTopics(setup, NIGHT, [{ seed: 14, count: 3000 }, { seed: 15, count: 2000 }]));
  });

  test("stopped until the coordinator aborted its open transaction (the transaction timeout), the service runs on when it resumes: its own transaction, not another instance's; every alert exactly once", async (t) => {
    const setup = distributionSetup(cluster!, { DISTRIBUTION_BATCH: '20' });
    simulateIntoDb(setup.dbDir, { profile: 'ztf-light', seed: 16, night: NIGHT }, 6000);
    const id = setup.env.DISTRIBUTION_ID!;
    const run = spawnDistribution(setup.env);
    const asker = createTransactionalProducer(kafkaClientOptions(setup.config), `${id}-asker`, 'exactly-once-test');
    t.after(async () => {
      run.child.kill('SIGKILL');
      await asker.close();
    });
    await run.waitForOutput(SESSION_OPEN, "the service's producer session");
    const aborted = await pausedPastItsTransaction(run.child, asker, id);
    run.child.kill('SIGCONT');
    simulateIntoDb(setup.dbDir, { profile: 'ztf-light', seed: 17, night: NIGHT }, 1000);
    let done = 0;
    await waitFor('every alert committed, or the service stopping', async () => run.child.exitCode !== null || (done = await committedAlerts(setup)) >= 7000, { timeoutMs: 300_000, everyMs: 500, detail: () => `${done} committed\n${run.output()}` });
    assert.equal(run.child.exitCode, null, `the service stopped after its own transaction was aborted (epoch ${aborted.producerEpoch}):\n${run.output()}`);
    assert.doesNotMatch(run.output(), /fenced this one/);
    const stop = runCli('fink', ['stop', 'distribution'], setup.env);
    assert.equal(stop.status, 0, stop.stderr);
    assert.equal(await run.exited, 0, run.output());
    await assertExactlyOnce(t, cluster!, setup, await expectedTopics(setup, NIGHT, [{ seed: 16, count: 6000 }, { seed: 17, count: 1000 }]));
  });
});
