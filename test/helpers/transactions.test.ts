// The transaction log partition of a transactional id, as the broker computes it: transactionsReady
// relies on it to wait for every coordinator of a fresh cluster, and a wrong mapping would leave
// some unwaited without any test failing there.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { transactionLogPartition } from './transactions.ts';

/**
 * Java's String.hashCode of each id, from `jshell` (OpenJDK 17), with the partition that Kafka's
 * Utils.abs(hash) % partitions gives for 3 partitions (the test clusters') and 50 (Kafka's default).
 */
const VECTORS: [id: string, javaHash: number, of3: number, of50: number][] = [
  ['test-coordinators-up', 1258947114, 0, 14],
  ['session-next-commit', 196068506, 2, 6],
  ['session-patient', -634365234, 0, 34],
  ['test-coordinators-up-1', -1332599474, 2, 24],
  ['test-coordinators-up-2', -1332599473, 1, 23],
  // Integer.MIN_VALUE: Math.abs leaves it negative, Kafka's Utils.abs makes it 0.
  ['polygenelubricants', -2147483648, 0, 0],
  // UTF-16 code units, a surrogate pair among them, as Java hashes them.
  ['ÀÉé→𝄞x', 587655548, 2, 48],
];

describe('transactionLogPartition', () => {
  for (const [id, javaHash, of3, of50] of VECTORS) {
    it(`${id} (Java hash ${javaHash}) is in partition ${of3} of 3 and ${of50} of 50`, () => {
      assert.equal(transactionLogPartition(id, 3), of3);
      assert.equal(transactionLogPartition(id, 50), of50);
    });
  }
});
