// A transactional producer session that knows nothing about what it sends: it opens a producer
// for a transactional id, begins, sends, commits and aborts transactions, and after an error tells
// a newer instance of the same id (which fenced this one) from an outage. The caller decides what a
// transaction holds and what to do after a failure (docs/architecture.md, Exactly once).
import type { MessageToProduce } from '@platformatic/kafka';
import { FinkError } from '../errors.ts';
import { pause } from '../pause.ts';
import { isCoordinatorSettling } from './errors.ts';
import type { KafkaConnection } from './client-options.ts';
import { describeTransaction } from './transaction-state.ts';
import { sendOffsetsToTransaction, type GroupMetadata, type TopicOffset } from './txn-offsets.ts';
import { createTransactionalProducer, producerIdentity, TRANSACTION_TIMEOUT_MS, type BufferProducer, type Compression, type ProducerIdentity } from './transactional-producer.ts';

export type Message = MessageToProduce<Buffer, Buffer, Buffer, Buffer>;
type Transaction = Awaited<ReturnType<BufferProducer['beginTransaction']>>;

const EMPTY = Buffer.alloc(0);

/** Another producer took the transactional id: this session must not come back. */
export class FencedError extends FinkError {
  constructor(transactionalId: string) {
    super(`another producer with transactional id ${transactionalId} started and fenced this one`, { code: 'FINK_FENCED' });
    this.name = 'FencedError';
  }
}

export interface SessionOptions {
  connection: KafkaConnection;
  transactionalId: string;
  clientId: string;
  compression?: Compression;
  /** How long the coordinator lets a transaction of this session stay open (default TRANSACTION_TIMEOUT_MS). */
  transactionTimeoutMs?: number;
}

/**
 * How long AddPartitionsToTxn is asked again while the coordinator settles. Right after a commit
 * it answers CONCURRENT_TRANSACTIONS until its markers are written: milliseconds on a quiet broker,
 * over the client's 20 retries 20 ms apart on a loaded one (seen failing a test's writer as
 * "failed 21 times"). A deadline, not a count: the wait is the broker's, whatever its speed.
 */
const ADD_PARTITIONS_DEADLINE_MS = 30_000;

/** Adds the partitions of `messages` to `tx`, again with a backoff while the coordinator is settling (a failed call records none). */
async function addPartitionsPatiently(producer: BufferProducer, tx: Transaction, messages: Parameters<Transaction['addPartitions']>[1]): Promise<void> {
  const deadline = Date.now() + ADD_PARTITIONS_DEADLINE_MS;
  for (let backoff = 50; ; backoff = Math.min(backoff * 2, 1000)) {
    try {
      await tx.addPartitions(await producer.metadata({ topics: [...new Set(messages.map((m) => m.topic))] }), messages);
      return;
    } catch (err) {
      if (!isCoordinatorSettling(err) || Date.now() + backoff > deadline) throw err;
      await pause(backoff);
    }
  }
}

export class TransactionalSession {
  readonly #options: SessionOptions;
  #producer: BufferProducer | undefined;
  #tx: Transaction | undefined;
  /**
   * When the transaction in flight was first sent to (the coordinator starts its clock later);
   * undefined while nothing was sent in it, so that it can be cancelled rather than aborted.
   */
  #firstSendAt: number | undefined;
  /**
   * When this session first asked the coordinator to add something to the transaction in flight
   * (AddPartitionsToTxn, AddOffsetsToTxn): the coordinator's clock for the transaction timeout
   * starts at or after it. Marked before the request, not after its answer: an instance stopped or
   * cut off between the two (its request taken, the answer not yet read) has its transaction
   * aborted at a timeout counted from before the answer.
   */
  #askedSince: number | undefined;
  /** This instance's producer session as the coordinator last confirmed it. */
  #identity: ProducerIdentity | undefined;

  constructor(options: SessionOptions) {
    this.#options = options;
  }

  get isOpen(): boolean {
    return this.#producer !== undefined;
  }

  /**
   * A producer session with its first transaction begun. Starting a session fences any other
   * instance, which is right at start and wrong after an error if a newer instance fenced this one
   * meanwhile without the client saying so (Kafka 4.2 can answer a commit racing with a newer
   * instance's start UNKNOWN_SERVER_ERROR). So a session after an error first asks the coordinator,
   * read-only, whether the producer epoch moved further than this instance explains: one step when
   * a transaction of its own has been open longer than the transaction timeout (counted from its
   * first request to the coordinator), since the coordinator aborts such a transaction with a new
   * epoch (KIP-360), answering this session PRODUCER_FENCED or INVALID_PRODUCER_EPOCH as it would
   * after another instance's start.
   */
  async open(): Promise<void> {
    const { connection, transactionalId, clientId, compression, transactionTimeoutMs = TRANSACTION_TIMEOUT_MS } = this.#options;
    const producer = createTransactionalProducer(connection, transactionalId, clientId, compression, transactionTimeoutMs);
    this.#producer = producer;
    if (this.#identity !== undefined) {
      const now = await describeTransaction(producer, transactionalId);
      const timedOut = this.#askedSince !== undefined && Date.now() - this.#askedSince > transactionTimeoutMs;
      const known = this.#identity;
      const explained = now === undefined || (now.producerId === known.producerId && now.producerEpoch <= known.producerEpoch + (timedOut ? 1 : 0));
      if (!explained) throw new FencedError(transactionalId);
    }
    this.#tx = await producer.beginTransaction();
    this.#identity = producerIdentity(producer);
    this.#firstSendAt = undefined;
    this.#askedSince = undefined;
  }

  /** The brokers the cluster lists now (its controller drops one that stopped answering). */
  async brokers(): Promise<number[]> {
    const meta = await this.#open().metadata({ topics: [], forceUpdate: true });
    return [...meta.brokers.keys()].sort((a, b) => a - b);
  }

  /** Partitions of each topic, fresh from the cluster. */
  async partitionCounts(topics: readonly string[]): Promise<Map<string, number>> {
    const meta = await this.#open().metadata({ topics: [...topics], forceUpdate: true });
    return new Map(topics.map((t) => [t, meta.topics.get(t)?.partitionsCount ?? 1]));
  }

  /**
   * Sends groups of messages in the transaction (begun if none is open), all requests in flight at
   * once: the connection keeps them in order, so the broker writes one while the next is on the wire.
   * `compressionOf` gives a topic's compression (default: the session's): a group is sent as one
   * request per compression.
   */
  async send(groups: readonly (readonly Message[])[], compressionOf?: (topic: string) => Compression): Promise<void> {
    const producer = this.#open();
    const tx = (this.#tx ??= await producer.beginTransaction());
    // Every partition of the call is added to the transaction once, before any produce: the
    // client would add them per request, and it merges an AddPartitionsToTxn started while
    // another is in flight into that one, acknowledging partitions it never added (see
    // docs/architecture.md, Library workarounds); a produce to such a partition fails the whole
    // transaction with TRANSACTION_ABORTABLE.
    const all = groups.flat().map(({ topic, partition }) => ({ topic, partition, key: EMPTY, value: EMPTY }));
    if (all.length > 0) this.#askedSince ??= Date.now();
    if (all.length > 0) await addPartitionsPatiently(producer, tx, all);
    const inFlight: Promise<unknown>[] = [];
    for (const messages of groups) {
      if (messages.length === 0) continue;
      this.#firstSendAt ??= Date.now();
      if (compressionOf === undefined) {
        inFlight.push(tx.send({ messages: [...messages] }));
        continue;
      }
      const byCompression = new Map<Compression, Message[]>();
      for (const m of messages) {
        const compression = compressionOf(m.topic);
        let same = byCompression.get(compression);
        if (same === undefined) byCompression.set(compression, (same = []));
        same.push(m);
      }
      for (const [compression, same] of byCompression) inFlight.push(tx.send({ messages: same, compression }));
    }
    // Every request is let end, answered or failed, before a failure is thrown: the caller then
    // aborts, and a produce still on its way would land after its partition's abort marker. Kafka
    // 4.2 refuses such a produce (partition verification, KIP-890; the session's test shows it);
    // this keeps the session from relying on it, as Java's producer drains its requests in flight
    // before it aborts.
    const ended = await Promise.allSettled(inFlight);
    const failed = ended.find((r) => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  }

  /**
   * Adds a consumer group's offsets to the transaction (begun if none is open), with the group's
   * metadata so that the group coordinator refuses them (GroupFencedError) from a member whose
   * generation is over: Kafka's read-process-write (KIP-447). `coordinator` finds the group's
   * coordinator.
   */
  async commitOffsets(coordinator: () => Promise<number>, group: GroupMetadata, offsets: readonly TopicOffset[]): Promise<void> {
    const producer = this.#open();
    const tx = (this.#tx ??= await producer.beginTransaction());
    this.#firstSendAt ??= Date.now();
    this.#askedSince ??= Date.now();
    await sendOffsetsToTransaction(producer, tx, coordinator, group, offsets);
  }

  async commit(): Promise<void> {
    if (this.#tx === undefined) return;
    await this.#tx.commit();
    this.#tx = undefined;
    this.#firstSendAt = undefined;
    this.#askedSince = undefined;
    // Clients on transactions version 2 get a new epoch with every commit.
    this.#identity = producerIdentity(this.#open()) ?? this.#identity;
  }

  /**
   * Ends the session: an open transaction is aborted (or cancelled if nothing was sent in it) and
   * the producer closed. Errors are not reported: the session is being given up, and whatever
   * happened to its transaction, the coordinator completes or aborts it. The identity stays, for
   * the check of the next `open`. Says whether a transaction that had sent data was given up.
   */
  async close(): Promise<boolean> {
    const sent = this.#tx !== undefined && this.#firstSendAt !== undefined;
    if (this.#tx !== undefined) {
      await (sent ? this.#tx.abort() : this.#tx.cancel()).catch(() => {});
      this.#tx = undefined;
    }
    await this.#producer?.close().catch(() => {});
    this.#producer = undefined;
    return sent;
  }

  #open(): BufferProducer {
    if (this.#producer === undefined) throw new Error('the transactional session is not open');
    return this.#producer;
  }
}
