// What tests of the transactional sessions share: a process stopped until the transaction
// coordinator aborted its open transaction at the transaction timeout.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { describeTransaction, type TransactionState } from '../../src/kafka/transaction-state.ts';
import { waitFor } from './wait.ts';

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
