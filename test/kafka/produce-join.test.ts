// The Produce requests' joins in buffers used again (src/kafka/produce-join.ts), on a real broker:
// a buffer goes back to the pool only once the broker has answered its request, later requests
// are joined into it, and what the broker keeps is byte for byte what was sent; a request the
// broker refuses keeps its buffer out of the pool.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { loadConfig, type Config } from '../../src/config/config.ts';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../../src/kafka/topics.ts';
import { kafkaClientOptions } from '../../src/kafka/client-options.ts';
import { errorIds } from '../../src/kafka/errors.ts';
import { freeJoinBuffers, joinCounts, POOLED_FROM_BYTES } from '../../src/kafka/produce-join.ts';
import { readTopic } from '../../src/kafka/topic-reader.ts';
import { ensureTopic } from '../../src/kafka/topics.ts';
import { TransactionalSession, type Message } from '../../src/kafka/transactional-session.ts';
import { planWaves } from '../../src/kafka/waves.ts';
import { testEnv } from '../helpers/cli.ts';
import { withTestCluster } from '../helpers/kafka.ts';

const TOPIC = 'joined';
const PARTITIONS = 3;
/** A topic that accepts less than one message of the test: the broker refuses it (MESSAGE_TOO_LARGE). */
const NARROW = 'narrow';
const NARROW_LIMIT = 100_000;
/** Values larger than a Rubin alert, random so that lz4 does not shrink them: one makes a request that is pooled. */
const VALUE_BYTES = 300_000;
const TRANSACTIONS = 4;
/** Per transaction: several waves (planWaves), so several requests in flight at once. */
const PER_TRANSACTION = 24;

describe('Produce requests joined into buffers used again, on a real broker', { timeout: 300_000 }, () => {
  let config: Config;
  withTestCluster(async (cluster) => {
    config = loadConfig({ env: testEnv(cluster.env) });
    await ensureTopic(kafkaClientOptions(config, 'admin'), TOPIC, { partitions: PARTITIONS, replicationFactor: 1 });
    await ensureTopic(kafkaClientOptions(config, 'admin'), NARROW, { partitions: 1, replicationFactor: 1, configs: { 'max.message.bytes': String(NARROW_LIMIT) } });
  });

  it('answered requests give their buffers back, later ones are joined into them, and the broker keeps exactly what was sent', async () => {
    const sent: Buffer[] = [];
    const before = { ...joinCounts };
    const session = new TransactionalSession({ connection: kafkaClientOptions(config), transactionalId: 'produce-join', clientId: 'produce-join-test' });
    try {
      await session.open();
      for (let t = 0; t < TRANSACTIONS; t++) {
        const messages: Message[] = Array.from({ length: PER_TRANSACTION }, (_, i) => {
          const value = randomBytes(VALUE_BYTES);
          sent.push(value);
          return { topic: TOPIC, partition: i % PARTITIONS, key: Buffer.from(`t${t}-m${i}`), value };
        });
        const waves = planWaves(messages, () => DEFAULT_MAX_MESSAGE_BYTES);
        assert.ok(waves.length > 1, 'several requests in flight in each transaction');
        await session.send(waves);
        await session.commit();
        assert.ok(freeJoinBuffers().length > 0, `after transaction ${t}, answered requests' buffers are free again`);
      }
    } finally {
      await session.close();
    }
    const pooled = joinCounts.pooled - before.pooled;
    const reused = joinCounts.reused - before.reused;
    assert.ok(pooled >= TRANSACTIONS * 2, `the client's joins of the requests went into pooled buffers (${pooled}); if 0, the client no longer joins through DynamicBuffer's getter`);
    assert.ok(reused > 0 && reused >= pooled - 2 * 8, `later requests were joined into buffers used before (${reused} of ${pooled})`);

    const read = new Map<string, Buffer>();
    for await (const m of readTopic(kafkaClientOptions(config), TOPIC)) {
      const key = m.key!.toString();
      assert.ok(!read.has(key), `${key} read once`);
      read.set(key, m.value!);
    }
    assert.equal(read.size, sent.length, 'every message read back');
    for (let t = 0; t < TRANSACTIONS; t++) {
      for (let i = 0; i < PER_TRANSACTION; i++) assert.ok(read.get(`t${t}-m${i}`)!.equals(sent[t * PER_TRANSACTION + i]!), `t${t}-m${i} read back byte for byte`);
    }
  });

  it('a request the broker refuses keeps its buffer out of the pool', async () => {
    assert.ok(VALUE_BYTES > NARROW_LIMIT && VALUE_BYTES > POOLED_FROM_BYTES, 'a request that is pooled and that the topic refuses');
    const free = freeJoinBuffers().length;
    const before = { ...joinCounts };
    const session = new TransactionalSession({ connection: kafkaClientOptions(config), transactionalId: 'produce-join-refused', clientId: 'produce-join-test' });
    try {
      await session.open();
      await assert.rejects(session.send([[{ topic: NARROW, partition: 0, value: randomBytes(VALUE_BYTES) }]]), (err: Error) => errorIds(err).includes('MESSAGE_TOO_LARGE'));
    } finally {
      await session.close();
    }
    assert.ok(joinCounts.pooled > before.pooled, 'the refused request was joined into a pooled buffer');
    // Free buffers the refused request took are not given back.
    assert.equal(freeJoinBuffers().length, free - (joinCounts.reused - before.reused), 'its buffer did not go back to the pool');
  });
});
