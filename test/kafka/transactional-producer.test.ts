import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig, type Config } from '../../src/config/config.ts';
import { ensureTopic } from '../../src/kafka/topics.ts';
import { describeTransaction } from '../../src/kafka/transaction-state.ts';
import { beginFirstTransaction, createTransactionalProducer, producerIdentity, type BufferProducer } from '../../src/kafka/transactional-producer.ts';
import { testEnv } from '../helpers/cli.ts';
import { startTestCluster, type TestCluster } from '../helpers/kafka.ts';
import { kafkaClientOptions } from '../../src/kafka/client-options.ts';
import { overrideApi, type ApiCall } from '../../src/kafka/api-override.ts';
import { isRecordBatchProduce } from '../../src/kafka/produce-request.ts';

const TOPIC = 'sessions';

// The producer the service sends with: its Produce requests are this project's, and what the
// service relies on after an error to tell whether a newer instance took its transactional id (the
// coordinator's producer epoch, read without fencing anyone).
describe('the transactional producer and describeTransaction', { timeout: 240_000 }, () => {
  let cluster: TestCluster;
  let config: Config;
  const producers: BufferProducer[] = [];
  const producer = (id: string) => {
    const p = createTransactionalProducer(kafkaClientOptions(config), id, 'describe-test');
    producers.push(p);
    return p;
  };
  const commitOne = async (p: BufferProducer) => {
    // A producer's first transaction waits for the coordinator; later ones need not.
    const tx = producerIdentity(p) === undefined ? await beginFirstTransaction(p) : await p.beginTransaction();
    await tx.send({ messages: [{ topic: TOPIC, partition: 0, value: Buffer.from('v') }] });
    await tx.commit();
  };
  before(async () => {
    cluster = await startTestCluster();
    config = loadConfig({ env: testEnv(cluster.env) });
    await ensureTopic(kafkaClientOptions(config, 'admin'), TOPIC, { partitions: 1, replicationFactor: 1 });
    // Every test asks the coordinator: it has loaded the transaction log once a session started.
    await (await beginFirstTransaction(producer('coordinator-up'))).cancel();
  });
  after(async () => {
    for (const p of producers) await p.close().catch(() => {});
    await cluster?.stop();
  });

  it("produces through this project's record batches (produce-request.ts), not the client's request", async () => {
    const p = producer('routed');
    const handed: ApiCall[] = [];
    overrideApi(p, 'Produce', (api) => {
      handed.push(api);
      return api;
    });
    await commitOne(p);
    assert.ok(handed.length > 0, 'the producer sent no Produce request');
    assert.ok(handed.every(isRecordBatchProduce), "the producer's Produce calls are the client's own: the override in transactional-producer.ts is not in effect");
  });

  it("gives a session's own producer id and epoch, unchanged by its commits and by questions", async () => {
    const p = producer('described');
    await commitOne(p);
    const own = producerIdentity(p)!;
    await commitOne(p);
    const asker = producer('described');
    const { state, ...identity } = (await describeTransaction(asker, 'described'))!;
    // Right after a commit its markers may still be on their way.
    assert.match(state, /^(Prepare|Complete)Commit$/);
    assert.deepEqual(identity, own);
    // Asking fenced nobody: the session commits again.
    await commitOne(p);
    assert.deepEqual(producerIdentity(p), own);
  });

  it('shows a newer epoch once another producer with the same id has started', async () => {
    const old = producer('taken-over');
    await commitOne(old);
    const was = producerIdentity(old)!;
    const newer = producer('taken-over');
    await commitOne(newer);
    const now = (await describeTransaction(producer('taken-over'), 'taken-over'))!;
    assert.equal(now.producerId, was.producerId);
    assert.ok(now.producerEpoch > was.producerEpoch, `epoch ${now.producerEpoch} after ${was.producerEpoch}`);
    assert.deepEqual(producerIdentity(newer), { producerId: now.producerId, producerEpoch: now.producerEpoch });
  });

  it('knows nothing of a transactional id never used', async () => {
    assert.equal(await describeTransaction(producer('never-used'), 'never-used'), undefined);
  });
});
