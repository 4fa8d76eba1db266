// Small record batches go uncompressed (src/kafka/record-batch.ts, SMALL_BATCH_BYTES): a real broker
// keeps them as sent, and the project's reader and kcat read them beside compressed ones.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig, type Config } from '../../src/config/config.ts';
import { kafkaClientOptions } from '../../src/kafka/client-options.ts';
import { SMALL_BATCH_BYTES } from '../../src/kafka/record-batch.ts';
import { readTopic, type ConsumedMessage } from '../../src/kafka/topic-reader.ts';
import { ensureTopic } from '../../src/kafka/topics.ts';
import { TransactionalSession } from '../../src/kafka/transactional-session.ts';
import { testEnv } from '../helpers/cli.ts';
import { withTestCluster, type TestCluster } from '../helpers/kafka.ts';
import { kcatIfInstalled, kcatReadCommitted } from '../helpers/readers.ts';

/** A lone message, as a rare user filter sends: well under the threshold. */
const LONE = 'lone';
/** Many messages in one batch, as a community topic gets: together well over it. */
const MANY = 'many';
const MANY_COUNT = 200;

function text(i: number): string {
  return `alert ${i} `.padEnd(400, 'x');
}

async function readAll(config: Config, topic: string): Promise<ConsumedMessage[]> {
  const out: ConsumedMessage[] = [];
  for await (const m of readTopic(kafkaClientOptions(config), topic)) out.push(m);
  return out;
}

describe('small record batches on a real broker', { timeout: 240_000 }, () => {
  let cluster: TestCluster;
  let config: Config;
  withTestCluster(async (started) => {
    cluster = started;
    config = loadConfig({ env: testEnv(cluster.env) });
    for (const topic of [LONE, MANY]) await ensureTopic(kafkaClientOptions(config, 'admin'), topic, { partitions: 1, replicationFactor: 1 });
    const session = new TransactionalSession({ connection: kafkaClientOptions(config), transactionalId: 'small-batches', clientId: 'small-batches-test' });
    try {
      await session.open();
      const many = Array.from({ length: MANY_COUNT }, (_, i) => ({ topic: MANY, partition: 0, value: Buffer.from(text(i)) }));
      assert.ok(MANY_COUNT * 400 > SMALL_BATCH_BYTES && 400 < SMALL_BATCH_BYTES, 'one batch over the threshold, one under');
      await session.send([[{ topic: LONE, partition: 0, value: Buffer.from(text(0)) }, ...many]], () => 'zstd');
      await session.commit();
    } finally {
      await session.close();
    }
  });

  it('the lone message is stored uncompressed, the large batch with zstd, and both read back whole', async () => {
    const lone = await readAll(config, LONE);
    assert.deepEqual(lone.map((m) => [m.codec, m.value?.toString()]), [['none', text(0)]]);
    const many = await readAll(config, MANY);
    assert.deepEqual(new Set(many.map((m) => m.codec)), new Set(['zstd']));
    assert.deepEqual(many.map((m) => m.value?.toString()), Array.from({ length: MANY_COUNT }, (_, i) => text(i)));
  });

  it('kcat reads both, committed', (t) => {
    if (!kcatIfInstalled(t, 'read by the project only')) return;
    assert.deepEqual(kcatReadCommitted(cluster.bootstrap, LONE, '%s'), [text(0)]);
    assert.deepEqual(kcatReadCommitted(cluster.bootstrap, MANY, '%s'), Array.from({ length: MANY_COUNT }, (_, i) => text(i)));
  });
});
