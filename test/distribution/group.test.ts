// Group mode (SCIENCE_STORE=kafka, `fink start distribution --group G`): instances sharing the
// science log's partitions through a consumer group, each batch and the group's offsets in one
// transaction. One cluster for the file; each test has its own log, topics and group.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { kafkaClientOptions } from '../../src/kafka/client-options.ts';
import { runFink } from '../helpers/cli.ts';
import { distributionSetup, type DistributionSetup } from '../helpers/distribution.ts';
import { assertExactlyOnce, expectedTopics } from '../helpers/exactly-once.ts';
import { startTestCluster, type TestCluster } from '../helpers/kafka.ts';
import { createScienceLog, ScienceLogWriter, simulatedAlerts } from '../helpers/science-log.ts';

const NIGHT = '20261204';
let tags = 0;

/** A distribution set-up on a science log of its own, with topics and a group of its own. */
async function groupSetup(cluster: TestCluster, overrides: Record<string, string> = {}): Promise<{ setup: DistributionSetup; group: string; writer: ScienceLogWriter }> {
  const tag = `g${process.pid}x${++tags}`;
  const setup = distributionSetup(cluster, {
    SCIENCE_STORE: 'kafka',
    SCIENCE_TOPIC_PREFIX: `${tag}_science_`,
    SUBSTREAM_PREFIX: `${tag}_`,
    DISTRIBUTION_TEST_TOPIC: `${tag}_distribution_test`,
    ...overrides,
  });
  const connection = kafkaClientOptions(setup.config);
  await createScienceLog(connection, `${tag}_science_`);
  return { setup, group: `${tag}-group`, writer: new ScienceLogWriter(connection, `${tag}_science_`, `${tag}-writer`) };
}

describe('the distribution as a consumer group', () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startTestCluster();
  });
  after(async () => {
    await cluster?.stop();
  });

  test('--until-caught-up in group mode exits 0 once everything is distributed, each alert once on every topic it matches', async (t) => {
    const { setup, group, writer } = await groupSetup(cluster, { DISTRIBUTION_BATCH: '100' });
    await writer.write(simulatedAlerts(21, NIGHT, 800));
    await writer.close();
    const run = await runFink(['start', 'distribution', '--group', group, '--until-caught-up'], setup.env);
    assert.equal(run.status, 0, run.output);
    await assertExactlyOnce(t, cluster, setup, await expectedTopics(setup, NIGHT, [{ seed: 21, count: 800 }]));
  });
});
