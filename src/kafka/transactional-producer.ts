// A transactional producer from @platformatic/kafka 2.12, with two protocol details set right:
// - InitProducerId is sent with producer id -1 and epoch -1 (a fresh producer); the client's
//   default (0, 0) is refused as fenced once the transactional id has history. (Sending an
//   earlier session's id and epoch instead is no way to learn whether a newer instance took over:
//   Kafka 4.2 aborts the newer instance's open transaction before it answers PRODUCER_FENCED.)
// - AddPartitionsToTxn is sent as version 3, the client version. Versions 4 and up are the
//   brokers' own verification calls (KIP-890) and need CLUSTER_ACTION, which no producer user
//   should hold; the client picks the highest version the broker offers, so under ACLs every
//   transaction would fail with CLUSTER_AUTHORIZATION_FAILED.
import { addPartitionsToTxnV3, Producer } from '@platformatic/kafka';
import { overrideApi, type ApiCall } from './api-override.ts';
import type { KafkaConnection } from './client-options.ts';

export type BufferProducer = Producer<Buffer, Buffer, Buffer, Buffer>;

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

export function createTransactionalProducer(connection: KafkaConnection, transactionalId: string, clientId: string): BufferProducer {
  const producer: BufferProducer = new Producer({
    clientId,
    ...connection,
    idempotent: true,
    transactionalId,
    producerId: -1n,
    producerEpoch: -1,
    acks: -1,
    compression: 'lz4',
    timeout: TRANSACTION_TIMEOUT_MS,
    // Right after a commit the coordinator answers CONCURRENT_TRANSACTIONS until its markers are
    // written (milliseconds): retry soon, as Java's producer does. Longer outages are the
    // caller's business, with its own backoff.
    retries: 20,
    retryDelay: 20,
  });
  overrideApi(producer, 'AddPartitionsToTxn', () => addPartitionsToTxnV3.api as unknown as ApiCall);
  return producer;
}
