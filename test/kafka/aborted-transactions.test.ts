// Kafka's read_committed rule on one partition of a Fetch response, without a broker: each case is
// a layout of batches (in offset order, as a broker sends them), the response's abortedTransactions,
// the fetch position, and the first offsets of the batches a read_committed reader delivers.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IS_CONTROL, IS_TRANSACTIONAL } from '@platformatic/kafka';
import { committedBatches, type AbortedTransaction, type BatchHeader } from '../../src/kafka/aborted-transactions.ts';

/** A transactional data batch of `count` records of producer `pid`. */
function data(pid: number, firstOffset: number, count = 1): BatchHeader {
  return { firstOffset: BigInt(firstOffset), lastOffsetDelta: count - 1, producerId: BigInt(pid), attributes: IS_TRANSACTIONAL, records: Array.from({ length: count }, () => ({ key: null })) };
}

/** A control batch: its record's key is (version 0, type), type 0 ABORT, 1 COMMIT. */
function marker(pid: number, offset: number, type: 'abort' | 'commit'): BatchHeader {
  const key = Buffer.alloc(4);
  key.writeInt16BE(type === 'abort' ? 0 : 1, 2);
  return { firstOffset: BigInt(offset), lastOffsetDelta: 0, producerId: BigInt(pid), attributes: IS_TRANSACTIONAL | IS_CONTROL, records: [{ key }] };
}

const abortedAt = (pid: number, firstOffset: number): AbortedTransaction => ({ producerId: BigInt(pid), firstOffset: BigInt(firstOffset) });

interface Case {
  name: string;
  batches: BatchHeader[];
  aborted: AbortedTransaction[];
  position?: number;
  delivered: number[];
}

const cases: Case[] = [
  {
    name: 'committed transactions only: every data batch, no marker',
    batches: [data(1, 0, 2), marker(1, 2, 'commit'), data(1, 3), marker(1, 4, 'commit')],
    aborted: [],
    delivered: [0, 3],
  },
  {
    name: 'aborted then committed by the same producer: the commit survives the abort marker',
    batches: [data(1, 0, 2), marker(1, 2, 'abort'), data(1, 3), marker(1, 4, 'commit')],
    aborted: [abortedAt(1, 0)],
    delivered: [3],
  },
  {
    name: 'an empty aborted transaction (a marker without data) between committed ones drops nothing',
    batches: [data(1, 0), marker(1, 1, 'commit'), marker(1, 2, 'abort'), data(1, 3), marker(1, 4, 'commit')],
    aborted: [abortedAt(1, 2)],
    delivered: [0, 3],
  },
  {
    // The layout a restarted service leaves: the library's one-range-per-producer filter lost c2 here.
    name: 'two aborted transactions of one producer, one empty, with a commit in between',
    batches: [data(1, 0), marker(1, 1, 'abort'), data(1, 2), marker(1, 3, 'commit'), marker(1, 4, 'abort'), data(1, 5), marker(1, 6, 'commit')],
    aborted: [abortedAt(1, 0), abortedAt(1, 4)],
    delivered: [2, 5],
  },
  {
    name: 'interleaved producers: only the aborting producer loses its batches',
    batches: [data(1, 0), data(2, 1), data(1, 2), data(2, 3), marker(1, 4, 'abort'), marker(2, 5, 'commit'), data(1, 6), marker(1, 7, 'commit')],
    aborted: [abortedAt(1, 0)],
    delivered: [1, 3, 6],
  },
  {
    name: 'a producer aborts while another one starts later: the later one is aborted only from its own first offset',
    batches: [data(2, 0), data(1, 1), marker(2, 2, 'commit'), data(2, 3), marker(1, 4, 'abort'), marker(2, 5, 'abort')],
    aborted: [abortedAt(1, 1), abortedAt(2, 3)],
    delivered: [0],
  },
  {
    name: 'non-transactional batches are never aborted',
    batches: [{ ...data(1, 0), attributes: 0 }, data(1, 1), marker(1, 2, 'abort')],
    aborted: [abortedAt(1, 0)],
    delivered: [0],
  },
  {
    name: 'an abort marker before the fetch position still ends its transaction',
    batches: [data(1, 0, 2), marker(1, 2, 'abort'), data(1, 3), marker(1, 4, 'commit')],
    aborted: [abortedAt(1, 0)],
    position: 3,
    delivered: [3],
  },
  {
    name: 'batches that end before the fetch position are not delivered; one that spans it is',
    batches: [data(1, 0, 2), marker(1, 2, 'commit'), data(1, 3, 3), marker(1, 6, 'commit')],
    aborted: [],
    position: 4,
    delivered: [3],
  },
  {
    name: 'abortedTransactions in any order are applied by first offset',
    batches: [data(1, 0), marker(1, 1, 'abort'), data(2, 2), marker(2, 3, 'abort'), data(3, 4), marker(3, 5, 'commit')],
    aborted: [abortedAt(2, 2), abortedAt(1, 0)],
    delivered: [4],
  },
];

describe('committedBatches: Kafka read_committed rule', () => {
  for (const c of cases) {
    it(c.name, () => {
      const out = committedBatches(c.batches, c.aborted, BigInt(c.position ?? 0));
      assert.deepEqual(out.map((b) => Number(b.firstOffset)), c.delivered);
    });
  }
});
