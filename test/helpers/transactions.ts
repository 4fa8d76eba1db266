// What tests of the transactional sessions share: a fresh cluster's transaction coordinators
// waited for, and a process stopped until the coordinator aborted its open transaction at the
// transaction timeout.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import type { KafkaConnection } from '../../src/kafka/client-options.ts';
import { beginFirstTransaction, createTransactionalProducer, type BufferProducer } from '../../src/kafka/transactional-producer.ts';
import { describeTransaction, type TransactionState } from '../../src/kafka/transaction-state.ts';
import { waitFor } from './wait.ts';

/** The internal topic of transaction states, one coordinator for each of its partitions. */
const TRANSACTION_LOG = '__transaction_state';

/**
 * The partition of the transaction log that holds `transactionalId`, so whose leader coordinates
 * it: the broker takes Java's String.hashCode of the id, its absolute value (0 for the one value
 * that has none), modulo the partitions.
 */
export function transactionLogPartition(transactionalId: string, partitions: number): number {
  let hash = 0;
  for (let i = 0; i < transactionalId.length; i++) hash = (Math.imul(hash, 31) + transactionalId.charCodeAt(i)) | 0;
  return (hash === -2147483648 ? 0 : Math.abs(hash)) % partitions;
}

/** One transaction of `transactionalId` begun, waiting out its coordinator, then cancelled. */
async function coordinatorAnswers(connection: KafkaConnection, transactionalId: string): Promise<BufferProducer> {
  const producer = createTransactionalProducer(connection, transactionalId, transactionalId);
  try {
    await (await beginFirstTransaction(producer)).cancel();
    return producer;
  } catch (err) {
    await producer.close();
    throw err;
  }
}

/**
 * Waits until every transaction coordinator of the cluster answers. A fresh cluster makes its
 * transaction log on first use and answers COORDINATOR_NOT_AVAILABLE or
 * COORDINATOR_LOAD_IN_PROGRESS until the log's partition of an id is loaded, which a session's own
 * open does not wait out (CI runs saw one fail so). The partitions are loaded one after another, so
 * one transaction is begun (with the producer's deadline) and cancelled for an id in each of them.
 */
export async function transactionsReady(connection: KafkaConnection): Promise<void> {
  const first = await coordinatorAnswers(connection, 'test-coordinators-up');
  let partitions: number;
  try {
    partitions = (await first.metadata({ topics: [TRANSACTION_LOG] })).topics.get(TRANSACTION_LOG)?.partitionsCount ?? 1;
  } finally {
    await first.close();
  }
  const covered = new Set([transactionLogPartition('test-coordinators-up', partitions)]);
  for (let k = 0; covered.size < partitions; k++) {
    const id = `test-coordinators-up-${k}`;
    const partition = transactionLogPartition(id, partitions);
    if (covered.has(partition)) continue;
    await (await coordinatorAnswers(connection, id)).close();
    covered.add(partition);
  }
}

/**
 * Stops `child` (SIGSTOP) at a moment when a transaction of `id` is open, and keeps it stopped
 * until the transaction coordinator has aborted that transaction at its timeout, bumping the
 * producer epoch (KIP-360): what a member cut off, or stalled, for longer than the transaction
 * timeout finds when it is back. Tried again if the transaction ended otherwise (its commit was
 * already on the wire). Returns the coordinator's view after the abort; the child stays stopped.
 */
export async function pausedPastItsTransaction(child: ChildProcess, asker: object, id: string): Promise<TransactionState> {
  for (let attempt = 1; ; attempt++) {
    const open = await waitFor(`a transaction of ${id} open while the instance is stopped`, async () => {
      child.kill('SIGSTOP');
      const state = await describeTransaction(asker, id);
      if (state?.state === 'Ongoing') return state;
      child.kill('SIGCONT');
      return undefined;
    }, { timeoutMs: 120_000, everyMs: 20 });
    const after = await waitFor(`the coordinator ending the stopped instance's transaction (epoch ${open.producerEpoch})`, async () => {
      const state = await describeTransaction(asker, id);
      return state !== undefined && state.state !== 'Ongoing' && state.state !== 'PrepareEpochFence' && state.state !== 'PrepareAbort' && state.state !== 'PrepareCommit' ? state : undefined;
    }, { timeoutMs: 120_000, everyMs: 500 });
    if (after.state === 'CompleteAbort' && after.producerId === open.producerId && after.producerEpoch === open.producerEpoch + 1) return after;
    assert.ok(attempt < 5, `the stopped instance's transaction ended ${after.state} at epoch ${after.producerEpoch} five times, never aborted at its timeout`);
    child.kill('SIGCONT');
  }
}
