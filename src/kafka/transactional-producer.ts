// A transactional producer from @platformatic/kafka 2.12, with two protocol details set right:
// - InitProducerId is sent with producer id -1 and epoch -1 (a fresh producer); the client's
//   default (0, 0) is refused as fenced once the transactional id has history. (Sending an
//   earlier session's id and epoch instead is no way to learn whether a newer instance took over:
//   Kafka 4.2 aborts the newer instance's open transaction before it answers PRODUCER_FENCED.)
// - AddPartitionsToTxn is sent as version 3, the client version. Versions 4 and up are the
//   brokers' own verification calls (KIP-890) and need CLUSTER_ACTION, which no producer user
//   should hold; the client picks the highest version the broker offers, so under ACLs every
//   transaction would fail with CLUSTER_AUTHORIZATION_FAILED. Its answer is read here too: the
//   client's reader makes an error object per refused partition, stack trace and all, and right
//   after a commit the coordinator refuses every partition of the next transaction for a while
//   (CONCURRENT_TRANSACTIONS, retried): with a hundred user topics, thousands of them a night.
// Both work around @platformatic/kafka 2.12.1 (docs/architecture.md, Library workarounds);
// test/kafka/library-workarounds.test.ts asserts the upstream behaviours and fails when they
// change. The -1/-1 options can go once the library sends them by default; the override once it
// caps AddPartitionsToTxn at the client version for producers.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Compression } from '../config/keys.ts';
import { addPartitionsToTxnV3, createAPI, ProduceAcks, Producer, ResponseError, type Reader } from '@platformatic/kafka';
import { overrideApi, type ApiCall } from './api-override.ts';
import { produceWithRecordBatches } from './produce-request.ts';
import type { KafkaConnection } from './client-options.ts';
import { isCoordinatorSettling } from './errors.ts';

export { COMPRESSIONS, type Compression } from '../config/keys.ts';

export type BufferProducer = Producer<Buffer, Buffer, Buffer, Buffer>;
export type ProducerTransaction = Awaited<ReturnType<BufferProducer['beginTransaction']>>;

/** Also the transaction timeout: an instance killed mid-batch blocks readers at most this long. */
export const TRANSACTION_TIMEOUT_MS = 30_000;

/** Who a producer session was for the transaction coordinator. */
export interface ProducerIdentity {
  producerId: bigint;
  producerEpoch: number;
}

/** The identity of a producer whose session is initialised (after its first beginTransaction). */
export function producerIdentity(producer: BufferProducer): ProducerIdentity | undefined {
  const { producerId, producerEpoch } = producer;
  return producerId === undefined || producerEpoch === undefined ? undefined : { producerId, producerEpoch };
}


/**
 * `transactionTimeoutMs`: the coordinator aborts a transaction of this producer open longer (the
 * client sends its request timeout as the transaction timeout, so it is both).
 */
export function createTransactionalProducer(connection: KafkaConnection, transactionalId: string, clientId: string, compression: Compression = 'lz4', transactionTimeoutMs = TRANSACTION_TIMEOUT_MS): BufferProducer {
  const producer: BufferProducer = new Producer({
    clientId,
    ...connection,
    idempotent: true,
    transactionalId,
    producerId: -1n,
    producerEpoch: -1,
    acks: ProduceAcks.ALL,
    compression,
    timeout: transactionTimeoutMs,
    // Right after a commit the coordinator answers CONCURRENT_TRANSACTIONS until its markers are
    // written (milliseconds): retry soon, as Java's producer does. Longer outages are the
    // caller's business, with its own backoff.
    retries: 20,
    retryDelay: 20,
  });
  overrideApi(producer, 'AddPartitionsToTxn', () => addPartitionsToTxn as unknown as ApiCall);
  overrideApi(producer, 'Produce', produceWithRecordBatches);
  return producer;
}

/** AddPartitionsToTxn response v3, as the client reads it, but failing with one error per error code, not per partition. */
export function parseAddPartitionsResponse(_correlationId: number, apiKey: number, apiVersion: number, reader: Reader) {
  /** The first partition refused with each code, by code: the response still has them all. */
  const refused = new Map<number, string>();
  const throttleTimeMs = reader.readInt32();
  const topicResults = reader.readArray((r, j) => {
    const name = r.readString();
    const resultsByPartition = r.readArray((r, k) => {
      const partition = { partitionIndex: r.readInt32(), partitionErrorCode: r.readInt16() };
      r.readTaggedFields();
      const code = partition.partitionErrorCode;
      if (code !== 0 && !refused.has(code)) refused.set(code, `/results_by_transaction/0/topic_results/${j}/results_by_partitions/${k}`);
      return partition;
    }, true, false);
    r.readTaggedFields();
    return { name, resultsByPartition };
  }, true, false);
  reader.readTaggedFields();
  const response = { throttleTimeMs, errorCode: 0, resultsByTransaction: [{ transactionalId: '', topicResults }] };
  if (refused.size > 0) throw new ResponseError(apiKey, apiVersion, Object.fromEntries([...refused].map(([code, path]) => [path, [code, null]])), response);
  return response;
}

const addPartitionsToTxn = createAPI(24, 3, addPartitionsToTxnV3.createRequest, parseAddPartitionsResponse);

/** How long a new producer waits for its transaction coordinator, unless told otherwise. */
export const COORDINATOR_DEADLINE_MS = 60_000;

/**
 * The first transaction of a producer session, once the transaction coordinator answers. On a
 * fresh or restarted cluster the coordinator is elected and loads the transaction log first
 * (seconds on a slow machine), answering NOT_COORDINATOR or COORDINATOR_LOAD_IN_PROGRESS meanwhile;
 * the client's own retries are milliseconds apart and spent long before. So: retried with a
 * backoff until a deadline, not a number of attempts. Any other error is thrown at once; a
 * coordinator still settling at the deadline, as the last answer.
 */
export async function beginFirstTransaction(producer: BufferProducer, options: { deadlineMs?: number; signal?: AbortSignal } = {}): Promise<ProducerTransaction> {
  const deadline = Date.now() + (options.deadlineMs ?? COORDINATOR_DEADLINE_MS);
  let backoff = 50;
  for (;;) {
    try {
      return await producer.beginTransaction();
    } catch (err) {
      if (!isCoordinatorSettling(err)) throw err;
      // The failed attempt leaves its transaction object on the producer: without cancelling it
      // the next attempt is refused as a second active transaction.
      await producer.transaction?.cancel();
      const left = deadline - Date.now();
      // The client's own error, so that callers tell it apart from others as they do any Kafka error.
      if (left <= 0) throw err;
      await sleep(Math.min(backoff, left), undefined, options.signal === undefined ? undefined : { signal: options.signal });
      backoff = Math.min(backoff * 2, 1000);
    }
  }
}
