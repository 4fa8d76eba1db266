import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DedupWindow } from '../../src/distribution/dedup-window.ts';

/** The verdicts of a window of `size` over records [offset, id]. */
function verdicts(size: number, records: [number, number][]): boolean[] {
  const window = new DedupWindow(size);
  return records.map(([offset, id]) => window.seen(BigInt(offset), BigInt(id)));
}

test('a second record of an alert within W offsets is a duplicate; the first is not', () => {
  assert.deepEqual(verdicts(10, [[0, 1], [1, 2], [5, 1]]), [false, false, true]);
});

test('a copy exactly W offsets after the last record of its alert is a duplicate; W + 1 after, it is not', () => {
  assert.deepEqual(verdicts(10, [[0, 1], [10, 1]]), [false, true]);
  assert.deepEqual(verdicts(10, [[0, 1], [11, 1]]), [false, false]);
});

test('a duplicate counts as a record of its alert: a third copy within W of the second is one too', () => {
  assert.deepEqual(verdicts(10, [[0, 7], [8, 7], [16, 7]]), [false, true, true]);
});

test('W = 0 finds no duplicate', () => {
  assert.deepEqual(verdicts(0, [[0, 1], [1, 1]]), [false, false]);
});

test('gaps in the offsets (transaction markers, aborted records) count towards W', () => {
  assert.deepEqual(verdicts(5, [[0, 1], [3, 2], [9, 1]]), [false, false, false]);
});

test('a window rebuilt from the W offsets before a position decides as the window that saw the whole partition', () => {
  const records: [number, number][] = Array.from({ length: 400 }, (_, i) => [i * 2, (i * 7) % 53]);
  const size = 60;
  const whole = verdicts(size, records);
  for (const at of [100, 333, 600]) {
    const rebuilt = new DedupWindow(size);
    const from = DedupWindow.from(size, BigInt(at), 0n);
    for (const [offset, id] of records) if (BigInt(offset) >= from && offset < at) rebuilt.seen(BigInt(offset), BigInt(id));
    const after = records.filter(([offset]) => offset >= at).map(([offset, id]) => rebuilt.seen(BigInt(offset), BigInt(id)));
    assert.deepEqual(after, whole.slice(records.findIndex(([offset]) => offset >= at)), `taken over at offset ${at}`);
  }
});

test('the rebuild starts at the log start when the window reaches before it', () => {
  assert.equal(DedupWindow.from(100, 50n, 20n), 20n);
  assert.equal(DedupWindow.from(100, 500n, 20n), 400n);
});

test('expired records leave the window: it holds at most what W covers', () => {
  const window = new DedupWindow(100);
  for (let i = 0; i < 20_000; i++) window.seen(BigInt(i), BigInt(i));
  assert.ok(window.records <= 101, `${window.records} records held`);
});
