import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Consumer, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import { loadConfig } from '../../src/config/config.ts';
import { kafkaClientOptions } from '../../src/kafka/client-options.ts';
import { ensureTopic, listTopics } from '../../src/kafka/topics.ts';
import { testEnv } from '../helpers/cli.ts';
import { startTestCluster, type TestCluster } from '../helpers/kafka.ts';

// The helper other rooms' tests use: a secured cluster whose env is enough for the project's clients.
describe('startTestCluster({ secured: true }) and restart()', { timeout: 240_000 }, () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startTestCluster({ secured: true });
  });
  after(() => cluster?.stop());

  it('gives an env with which ensureTopic and kafkaClientOptions reach the secured broker, and keeps data across restart()', async () => {
    const config = loadConfig({ env: testEnv(cluster.env) });
    assert.equal(kafkaClientOptions(config).sasl?.mechanism, 'SCRAM-SHA-512');
    assert.equal(await ensureTopic(kafkaClientOptions(config, 'admin'), 'helper_check', { partitions: 1, replicationFactor: 1 }), true);
    assert.equal(await ensureTopic(kafkaClientOptions(config, 'admin'), 'helper_check', { partitions: 1, replicationFactor: 1 }), false);

    const producer = new Producer({ clientId: 'helper-test', ...kafkaClientOptions(config), serializers: stringSerializers });
    try {
      await producer.send({ messages: [{ topic: 'helper_check', key: 'k', value: 'survives a restart' }] });
    } finally {
      await producer.close();
    }

    await cluster.restart();
    assert.deepEqual(await listTopics(kafkaClientOptions(config, 'admin')), ['helper_check']);
    const consumer = new Consumer({ clientId: 'helper-test', groupId: 'helper-test', ...kafkaClientOptions(config), deserializers: stringDeserializers });
    try {
      const stream = await consumer.consume({ topics: ['helper_check'], mode: 'earliest' });
      let value: string | undefined;
      for await (const message of stream) {
        value = message.value;
        break;
      }
      await stream.close();
      assert.equal(value, 'survives a restart');
    } finally {
      await consumer.close(true);
    }
  });
});
