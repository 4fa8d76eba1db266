// A broker lost under load: three brokers, topics replicated three times with two in sync required,
// one broker SIGKILLed while the service distributes 50,000 alerts. Whether it comes back or not,
// every alert is on every matching topic exactly once, and the service's log says what happened.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test, type TestContext } from 'node:test';
import { kafkaClientOptions } from '../../src/kafka/client-options.ts';
import { describeTopic } from '../../src/kafka/topics.ts';
import { simulateIntoDb } from '../../src/sciencedb/simulate.ts';
import { runCli } from '../helpers/cli.ts';
import { committedAlerts, distributionSetup, SESSION_OPEN, spawnDistribution, waitForCommitted, type DistributionSetup } from '../helpers/distribution.ts';
import { assertExactlyOnce, expectedTopics } from '../helpers/exactly-once.ts';
import { startTestCluster, type TestCluster } from '../helpers/kafka.ts';
import { waitFor } from '../helpers/wait.ts';

const NIGHT = '20261124';
const COUNT = 50_000;
/** What the service logs when a broker is lost: the cluster lists it no more, or it cost a transaction or the connection. */
const NOTICED = /broker left the cluster|Kafka unavailable|Kafka failed the transaction in flight/;

describe('a broker lost under load (three brokers, replication 3, min ISR 2)', { timeout: 900_000 }, () => {
  let cluster: TestCluster | undefined;
  beforeEach(async () => {
    cluster = await startTestCluster({ brokers: 3 });
  });
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  /** Starts the service on 50,000 alerts and SIGKILLs the broker leading its checkpoint (the busiest) once a fifth is committed. */
  async function loseABroker(t: TestContext, seed: number): Promise<{ setup: DistributionSetup; run: ReturnType<typeof spawnDistribution> }> {
    // Every broker as a bootstrap server, as a deployment lists them: the one lost may be the one
    // a new session (after the loss) would otherwise have asked first.
    const setup = distributionSetup(cluster!, { DISTRIBUTION_SERVERS: cluster!.bootstrap, DISTRIBUTION_REPLICATION: '3', DISTRIBUTION_MIN_ISR: '2', DISTRIBUTION_BATCH: '250' });
    simulateIntoDb(setup.dbDir, { profile: 'ztf-light', seed, night: NIGHT }, COUNT);
    const run = spawnDistribution(setup.env);
    t.after(() => run.child.kill('SIGKILL'));
    await run.waitForOutput(SESSION_OPEN, "the service's producer session");
    await waitFor('a fifth of the alerts committed', async () => (await committedAlerts(setup)) >= COUNT / 5, { timeoutMs: 300_000, everyMs: 200 });
    const described = await describeTopic(kafkaClientOptions(setup.config, 'admin'), setup.config.require('DISTRIBUTION_CHECKPOINT_TOPIC'));
    const leader = described!.partitions[0]!.leader;
    const before = await committedAlerts(setup);
    await cluster!.killBroker(leader - 1);
    t.diagnostic(`node ${leader} SIGKILLed with ${before} of ${COUNT} alerts committed`);
    await run.waitForOutput(NOTICED, 'the service to say what the lost broker cost it');
    return { setup, run };
  }

  async function finish(t: TestContext, setup: DistributionSetup, run: ReturnType<typeof spawnDistribution>, seed: number): Promise<void> {
    assert.equal(await waitForCommitted(setup, COUNT, 600_000), COUNT, run.output());
    const stop = runCli('fink', ['stop', 'distribution'], setup.env);
    assert.equal(stop.status, 0, stop.stderr);
    assert.equal(await run.exited, 0, run.output());
    await assertExactlyOnce(t, cluster!, setup, await expectedTopics(setup, NIGHT, [{ seed, count: COUNT }])).catch((err: unknown) => {
      // What the service went through around the loss says which path sent an alert twice.
      t.diagnostic(`the service's log:\n${run.output().split('\n').slice(-120).join('\n')}`);
      throw err;
    });
  }

  test('the broker comes back: every alert exactly once on every matching topic', async (t) => {
    const { setup, run } = await loseABroker(t, 31);
    await cluster!.revive();
    await finish(t, setup, run, 31);
  });

  test('the broker does not come back: the two left carry on, every alert exactly once', async (t) => {
    const { setup, run } = await loseABroker(t, 32);
    await finish(t, setup, run, 32);
  });
});
