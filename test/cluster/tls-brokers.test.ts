import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config/config.ts';
import { kafkaClientOptions } from '../../src/kafka/client-options.ts';
import { describeTopic, ensureTopic } from '../../src/kafka/topics.ts';
import { testEnv } from '../helpers/cli.ts';
import { startTestCluster, type TestCluster } from '../helpers/kafka.ts';
import { waitFor } from '../helpers/wait.ts';

describe('three brokers over TLS (SASL_SSL)', { timeout: 300_000 }, () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startTestCluster({ tls: true, brokers: 3 });
  });
  after(async () => cluster?.stop());

  test('replicate to each other over the TLS listener: every replica of a topic of replication factor 3 is in sync', async () => {
    const connection = kafkaClientOptions(loadConfig({ env: testEnv(cluster.env) }), 'admin');
    await ensureTopic(connection, 'replicated', { partitions: 3, replicationFactor: 3 });
    let isr = '';
    await waitFor('every replica in sync', async () => {
      const topic = await describeTopic(connection, 'replicated');
      isr = JSON.stringify(topic?.partitions.map((p) => p.isr.length));
      return topic !== undefined && topic.partitions.every((p) => p.isr.length === 3);
    }, { timeoutMs: 120_000, detail: () => `in-sync replicas per partition: ${isr}` });
    assert.equal(isr, '[3,3,3]');
  });
});
