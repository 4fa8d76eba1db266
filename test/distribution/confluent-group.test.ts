// Group mode (SCIENCE_STORE=kafka, `--group`) in the Confluent wire format: the instances register
// their schemas before their batches' first sends as the single instance does, against a real
// broker and the project's real Apicurio registry.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { kafkaClientOptions } from '../../src/kafka/client-options.ts';
import { partitionOf } from '../../src/kafka/partitioner.ts';
import { runFink } from '../helpers/cli.ts';
import { confluentDecoder } from '../helpers/confluent.ts';
import { distributionSetup, readAll } from '../helpers/distribution.ts';
import { assertExactlyOnce, expectedTopics } from '../helpers/exactly-once.ts';
import type { TestCluster } from '../helpers/kafka.ts';
import { withClusterAndRegistry, type TestRegistry } from '../helpers/registry.ts';
import { createScienceLog, ScienceLogWriter, simulatedAlerts } from '../helpers/science-log.ts';

const NIGHT = '20261205';

describe('the Confluent wire format in group mode', () => {
  let cluster: TestCluster;
  let registry: TestRegistry;
  withClusterAndRegistry((c, r) => void ([cluster, registry] = [c, r]));

  test('--group --until-caught-up in the confluent format: every alert once on every topic it matches, keyed and partitioned by its object, its schema id from the registry', async (t) => {
    const tag = `cg${process.pid}`;
    const setup = distributionSetup(cluster, {
      SCIENCE_STORE: 'kafka',
      SCIENCE_TOPIC_PREFIX: `${tag}_science_`,
      SUBSTREAM_PREFIX: `${tag}_`,
      DISTRIBUTION_TEST_TOPIC: `${tag}_distribution_test`,
      DISTRIBUTION_BATCH: '100',
      DISTRIBUTION_FORMAT: 'confluent',
      DISTRIBUTION_SCHEMA_REGISTRY: registry.url,
    });
    const connection = kafkaClientOptions(setup.config);
    await createScienceLog(connection, `${tag}_science_`, undefined, ['ztf', 'lsst']);
    const writer = new ScienceLogWriter(connection, `${tag}_science_`, `${tag}-writer`);
    await writer.write(simulatedAlerts(31, NIGHT, 600));
    await writer.close();
    const run = await runFink(['start', 'distribution', '--group', `${tag}-group`, '--until-caught-up'], setup.env);
    assert.equal(run.status, 0, run.output);
    assert.match(run.output, /schema registered/);
    const decode = confluentDecoder(registry.url);
    const expected = await expectedTopics(setup, NIGHT, [{ seed: 31, count: 600 }]);
    await assertExactlyOnce(t, cluster, setup, expected, async (m) => (await decode(m)).value.candid as bigint);
    const messages = await readAll(setup.config, `${tag}_distribution_test`);
    const partitions = Math.max(...messages.map((m) => m.partition)) + 1;
    for (const m of messages) {
      const { value } = await decode(m);
      assert.equal(m.key!.toString(), value.objectId, `alert ${String(value.candid)}: keyed by its object`);
      assert.equal(m.partition, partitionOf(value.objectId as string, partitions), `alert ${String(value.candid)}: partitioned by its object`);
    }
  });
});
