import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { loadConfig, type Config } from '../../src/config/config.ts';
import { readTopic } from '../../src/kafka/topic-reader.ts';
import { ensureKafkaJars } from '../../src/kafka/provision.ts';
import { ensureTopic } from '../../src/kafka/topics.ts';
import { createTransactionalProducer, type BufferProducer } from '../../src/kafka/transactional-producer.ts';
import { testEnv } from '../helpers/cli.ts';
import { startTestCluster, type TestCluster } from '../helpers/kafka.ts';
import { kafkaClientOptions } from '../../src/kafka/client-options.ts';

const TOPIC = 'transactions_layout';

type Outcome = 'commit' | 'abort';

/**
 * One transaction on the topic's only partition, committed or aborted. With no values, the
 * partition is only added to it: an abort then leaves a marker and no data, as an instance killed
 * between adding a partition and producing to it does.
 */
async function transaction(producer: BufferProducer, values: string[], outcome: Outcome): Promise<void> {
  const tx = await producer.beginTransaction();
  const messages = values.map((v) => ({ topic: TOPIC, partition: 0, value: Buffer.from(v) }));
  if (messages.length > 0) await tx.send({ messages });
  else await tx.addPartitions(await producer.metadata({ topics: [TOPIC] }), [{ topic: TOPIC, partition: 0, value: Buffer.alloc(0) }]);
  await (outcome === 'commit' ? tx.commit() : tx.abort());
}

/** The transactions in order, in one producer session, as one run of the service makes them. */
async function session(config: Config, steps: [string[], Outcome][]): Promise<void> {
  const producer = createTransactionalProducer(kafkaClientOptions(config), 'reader-test', 'reader-test');
  try {
    for (const [values, outcome] of steps) await transaction(producer, values, outcome);
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
  before(async () => {
    cluster = await startTestCluster();
    config = loadConfig({ env: testEnv(cluster.env) });
    await ensureTopic(kafkaClientOptions(config, 'admin'), TOPIC, { partitions: 1, replicationFactor: 1 });
    await session(config, [[['c1', 'c2'], 'commit'], [['a1'], 'abort'], [['c3'], 'commit'], [[], 'abort'], [['c4'], 'commit']]);
    await session(config, [[['a2', 'a3'], 'abort']]);
    await session(config, [[['c5'], 'commit'], [[], 'abort']]);
    await session(config, [[['c6'], 'commit']]);
  });
  after(() => cluster?.stop());

  const committed = ['c1', 'c2', 'c3', 'c4', 'c5', 'c6'];

  it('reads every committed record once and no aborted one, with several aborted transactions of one producer, empty ones among them', async () => {
    const values: string[] = [];
    for await (const m of readTopic(kafkaClientOptions(config), TOPIC)) values.push(m.value!.toString());
    assert.deepEqual(values, committed);
  });

  it("reads what Kafka's own console consumer reads at read_committed", () => {
    const libs = ensureKafkaJars(config);
    const out = execFileSync('java', ['-cp', `${libs}/*`, 'org.apache.kafka.tools.consumer.ConsoleConsumer', '--bootstrap-server', cluster.bootstrap, '--topic', TOPIC, '--from-beginning', '--isolation-level', 'read_committed', '--max-messages', String(committed.length), '--timeout-ms', '30000'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    assert.deepEqual(out.trim().split('\n'), committed);
  });

  // librdkafka is the client under fink-client (confluent-kafka).
  it('reads what kcat (librdkafka) reads at read_committed', (t) => {
    const kcat = spawnSync('kcat', ['-C', '-b', cluster.bootstrap, '-t', TOPIC, '-o', 'beginning', '-e', '-q', '-X', 'isolation.level=read_committed', '-f', '%s\n'], { encoding: 'utf8', timeout: 60_000 });
    if (kcat.error !== undefined) {
      t.skip('kcat is not installed (Debian package kcat); .ci/run installs it');
      return;
    }
    assert.equal(kcat.status, 0, kcat.stderr);
    assert.deepEqual(kcat.stdout.trim().split('\n'), committed);
  });
});
