import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig, type Config } from '../../src/config/config.ts';
import { ensureTopic } from '../../src/kafka/topics.ts';
import { describeTransaction } from '../../src/kafka/transaction-state.ts';
import { Reader, ResponseError, Writer } from '@platformatic/kafka';
import { errorIds, isCoordinatorSettling } from '../../src/kafka/errors.ts';
import { beginFirstTransaction, createTransactionalProducer, parseAddPartitionsResponse, producerIdentity, type BufferProducer } from '../../src/kafka/transactional-producer.ts';
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

// No broker: the answer is written as a broker writes it. Right after a commit the coordinator
// refuses every partition of the next transaction (CONCURRENT_TRANSACTIONS) until its markers
// are written; the client's own reader made an error object per partition of each such answer.
describe('the AddPartitionsToTxn answer (v3) as the transactional producer reads it', () => {
  const CONCURRENT_TRANSACTIONS = 51;
  const UNKNOWN_TOPIC_OR_PARTITION = 3;
  const answer = (topics: { name: string; codes: number[] }[]) =>
    Reader.from(Writer.create()
      .appendInt32(7)
      .appendArray(topics, (w, t) => w.appendString(t.name).appendArray(t.codes, (w, code, k) => w.appendInt32(k).appendInt16(code)))
      .appendTaggedFields().buffer);
  const read = (topics: { name: string; codes: number[] }[]) => parseAddPartitionsResponse(0, 24, 3, answer(topics));

  it('returns every partition of an answer without errors', () => {
    const response = read([{ name: 'a', codes: [0, 0] }, { name: 'b', codes: [0] }]);
    assert.equal(response.throttleTimeMs, 7);
    assert.deepEqual(response.resultsByTransaction[0]!.topicResults.map((t) => [t.name, t.resultsByPartition.map((p) => [p.partitionIndex, p.partitionErrorCode])]), [['a', [[0, 0], [1, 0]]], ['b', [[0, 0]]]]);
  });

  it('fails a refusal of a hundred partitions with one error per code, which the session retries, the answer whole beside it', () => {
    const topics = Array.from({ length: 50 }, (_, i) => ({ name: `t${i}`, codes: [CONCURRENT_TRANSACTIONS, CONCURRENT_TRANSACTIONS] }));
    const err = (() => {
      try {
        read(topics);
      } catch (e) {
        return e as ResponseError & { response: ReturnType<typeof parseAddPartitionsResponse> };
      }
      assert.fail('no error');
    })();
    assert.ok(err instanceof ResponseError);
    assert.deepEqual(errorIds(err), ['CONCURRENT_TRANSACTIONS']);
    assert.equal(err.errors.length, 1);
    assert.equal(isCoordinatorSettling(err), true);
    assert.equal(err.response.resultsByTransaction[0]!.topicResults.flatMap((t) => t.resultsByPartition).filter((p) => p.partitionErrorCode === CONCURRENT_TRANSACTIONS).length, 100);
  });

  it('names each code of a mixed refusal, which is then no longer only the coordinator settling', () => {
    assert.throws(() => read([{ name: 'a', codes: [0, CONCURRENT_TRANSACTIONS] }, { name: 'b', codes: [UNKNOWN_TOPIC_OR_PARTITION, CONCURRENT_TRANSACTIONS] }]), (err: ResponseError) => {
      assert.deepEqual(errorIds(err).sort(), ['CONCURRENT_TRANSACTIONS', 'UNKNOWN_TOPIC_OR_PARTITION']);
      assert.equal(isCoordinatorSettling(err), false);
      return true;
    });
  });
});
