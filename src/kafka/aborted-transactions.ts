// Kafka's read_committed rule, as its Java consumer applies it to one partition of a Fetch response:
// a producer's transactional batches are aborted from the first offset of one of its aborted
// transactions (the response lists them) until that producer's next ABORT control marker. Markers
// count wherever they sit, even in batches before the fetch position that the broker sent along:
// a marker skipped there would leave its producer aborted and drop its next committed batches.
import { IS_CONTROL, IS_TRANSACTIONAL } from '@platformatic/kafka';

/** What the rule reads of a record batch (a RecordsBatch of @platformatic/kafka fits). */
export interface BatchHeader {
  firstOffset: bigint;
  lastOffsetDelta: number;
  producerId: bigint;
  attributes: number;
  /** A control batch holds one record whose key is (version int16, type int16). */
  records: readonly { key: Buffer | null }[];
}

/** An entry of a partition's abortedTransactions in a Fetch response. */
export interface AbortedTransaction {
  producerId: bigint;
  firstOffset: bigint;
}

// The control record types of the protocol (ABORT 0, COMMIT 1): @platformatic/kafka names none.
const ABORT_MARKER = 0;

function isAbortMarker(batch: BatchHeader): boolean {
  const key = batch.records[0]?.key;
  return key !== undefined && key !== null && key.length >= 4 && key.readInt16BE(2) === ABORT_MARKER;
}

/** The last offset of a batch. */
export function lastOffset(batch: BatchHeader): bigint {
  return batch.firstOffset + BigInt(batch.lastOffsetDelta);
}

/**
 * The data batches, in the order given (the broker's), that a read_committed reader at `position`
 * delivers: neither control batches nor batches of aborted transactions, nor batches that end
 * before `position` (a batch that starts before it still holds records at and after it).
 */
export function committedBatches<B extends BatchHeader>(batches: readonly B[], aborted: readonly AbortedTransaction[], position: bigint): B[] {
  const pending = [...aborted].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0));
  const abortedProducers = new Set<bigint>();
  const out: B[] = [];
  for (const batch of batches) {
    const last = lastOffset(batch);
    while (pending.length > 0 && pending[0]!.firstOffset <= last) abortedProducers.add(pending.shift()!.producerId);
    if (batch.attributes & IS_CONTROL) {
      if (isAbortMarker(batch)) abortedProducers.delete(batch.producerId);
    } else if (last >= position && !(batch.attributes & IS_TRANSACTIONAL && abortedProducers.has(batch.producerId))) {
      out.push(batch);
    }
  }
  return out;
}
