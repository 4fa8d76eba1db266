import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig, type Config } from '../../src/config/config.ts';
import { readTopic } from '../../src/kafka/topic-reader.ts';
import { ensureTopic } from '../../src/kafka/topics.ts';
import { beginFirstTransaction, createTransactionalProducer, type BufferProducer } from '../../src/kafka/transactional-producer.ts';
import { testEnv } from '../helpers/cli.ts';
import { withTestCluster, type TestCluster } from '../helpers/kafka.ts';
import { kafkaClientOptions } from '../../src/kafka/client-options.ts';
import { consoleConsumerReadCommitted, haveKcat, kcatReadCommitted } from '../helpers/readers.ts';

const TOPIC = 'transactions_layout';

type Outcome = 'commit' | 'abort';

/**
 * One transaction on the topic's only partition, committed or aborted. With no values, the
 * partition is only added to it: an abort then leaves a marker and no data, as an instance killed
 * between adding a partition and producing to it does.
 */
async function transaction(producer: BufferProducer, values: string[], outcome: Outcome, first: boolean): Promise<void> {
  // A session's first transaction waits for the coordinator (a new cluster is still loading it).
  const tx = first ? await beginFirstTransaction(producer) : await producer.beginTransaction();
  const messages = values.map((v) => ({ topic: TOPIC, partition: 0, value: Buffer.from(v) }));
  if (messages.length > 0) await tx.send({ messages });
  else await tx.addPartitions(await producer.metadata({ topics: [TOPIC] }), [{ topic: TOPIC, partition: 0, value: Buffer.alloc(0) }]);
  await (outcome === 'commit' ? tx.commit() : tx.abort());
}

/** The transactions in order, in one producer session, as one run of the service makes them. */
async function session(config: Config, steps: [string[], Outcome][]): Promise<void> {
  const producer = createTransactionalProducer(kafkaClientOptions(config), 'reader-test', 'reader-test');
  try {
    for (const [i, [values, outcome]] of steps.entries()) await transaction(producer, values, outcome, i === 0);
  } finally {
    await producer.close();
  }
}

// The layout restarts of the service leave: one transactional id, hence one producer id, with
// several aborted transactions, some of them empty, between committed ones in a single partition.
// A reader that keeps one aborted range per producer id loses the committed records in between.
describe('readTopic at read_committed', { timeout: 240_000 }, () => {
  let cluster: TestCluster;
  let config: Config;
  withTestCluster(async (started) => {
    cluster = started;
    config = loadConfig({ env: testEnv(cluster.env) });
    await ensureTopic(kafkaClientOptions(config, 'admin'), TOPIC, { partitions: 1, replicationFactor: 1 });
    await session(config, [[['c1', 'c2'], 'commit'], [['a1'], 'abort'], [['c3'], 'commit'], [[], 'abort'], [['c4'], 'commit']]);
    await session(config, [[['a2', 'a3'], 'abort']]);
    await session(config, [[['c5'], 'commit'], [[], 'abort']]);
    await session(config, [[['c6'], 'commit']]);
  });

  const committed = ['c1', 'c2', 'c3', 'c4', 'c5', 'c6'];

  it('reads every committed record once and no aborted one, with several aborted transactions of one producer, empty ones among them', async () => {
    const values: string[] = [];
    for await (const m of readTopic(kafkaClientOptions(config), TOPIC)) values.push(m.value!.toString());
    assert.deepEqual(values, committed);
  });

  it("reads what Kafka's own console consumer reads at read_committed", () => {
    assert.deepEqual(consoleConsumerReadCommitted(config, cluster.bootstrap, TOPIC, committed.length), committed);
  });

  // librdkafka is the client under fink-client (confluent-kafka).
  it('reads what kcat (librdkafka) reads at read_committed', (t) => {
    if (!haveKcat(t)) return;
    assert.deepEqual(kcatReadCommitted(cluster.bootstrap, TOPIC, '%s'), committed);
  });
});
