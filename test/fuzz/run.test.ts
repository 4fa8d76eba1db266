import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { haveRealData } from '../helpers/data.ts';
import { tempDir } from '../helpers/temp.ts';
import { runFuzz } from './run.ts';

// The runner itself: workers of bounded age, and a case that times out told from a real hang.
// FUZZ_STALL is read by the workers (test/fuzz/worker.ts), which inherit this process's environment.

test('a fuzz worker runs at most recycleEvery cases, a fresh process takes over after them', { timeout: 300_000 }, async (t) => {
  if (!haveRealData(t)) return;
  const pids: number[] = [];
  const summary = await runFuzz('ingest', 2112, 12, { recycleEvery: 5, onCase: (line) => pids.push(line.pid) });
  assert.equal(summary.cases, 12);
  assert.deepEqual(summary.failures, []);
  assert.equal(new Set(pids).size, 3, `worker processes of cases 0..11: ${pids.join(' ')}`);
});

test('a case that times out among others but ends when rerun alone is reported slow, with its outcome, not as a hang', { timeout: 300_000 }, async (t) => {
  if (!haveRealData(t)) return;
  process.env.FUZZ_STALL = `3:${join(tempDir('fuzz-stall'), 'stalled-once')}`;
  t.after(() => delete process.env.FUZZ_STALL);
  const summary = await runFuzz('ingest', 2112, 6, { deadlineMs: 20_000 });
  assert.deepEqual(summary.failures, []);
  assert.equal(summary.cases, 6);
  assert.deepEqual(summary.slow.map((s) => s.i), [3]);
  assert.match(summary.slow[0]!.detail ?? '', /no result within 20000 ms among others; rerun alone: (ok|refused) in \d+ ms/);
});

test('a case that times out again when rerun alone is a hang, reported with both runs', { timeout: 300_000 }, async (t) => {
  if (!haveRealData(t)) return;
  process.env.FUZZ_STALL = '3';
  t.after(() => delete process.env.FUZZ_STALL);
  const summary = await runFuzz('ingest', 2112, 6, { deadlineMs: 20_000 });
  assert.equal(summary.cases, 6);
  assert.deepEqual(summary.failures.map((f) => [f.i, f.outcome]), [[3, 'hang']]);
  assert.match(summary.failures[0]!.detail ?? '', /no result within 20000 ms; rerun alone: no result within 20000 ms/);
});
