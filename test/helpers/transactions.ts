// What tests of the transactional sessions share: a fresh cluster's transaction coordinators
// waited for, and a process stopped until the coordinator aborted its open transaction at the
// transaction timeout.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import type { KafkaConnection } from '../../src/kafka/client-options.ts';
import { beginFirstTransaction, createTransactionalProducer } from '../../src/kafka/transactional-producer.ts';
import { describeTransaction, type TransactionState } from '../../src/kafka/transaction-state.ts';
import { waitFor } from './wait.ts';

/**
 * Waits until the cluster's transaction coordinators answer. A fresh cluster makes its transaction
 * log on first use and answers COORDINATOR_NOT_AVAILABLE until then, which a session's own open
 * does not wait out (a CI run saw one fail so): one transaction begun with the producer's deadline,
 * then cancelled. On a one-broker cluster every coordinator is then up.
 */
export async function transactionsReady(connection: KafkaConnection): Promise<void> {
  const producer = createTransactionalProducer(connection, 'test-coordinators-up', 'test-coordinators-up');
  try {
    await (await beginFirstTransaction(producer)).cancel();
  } finally {
    await producer.close();
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
