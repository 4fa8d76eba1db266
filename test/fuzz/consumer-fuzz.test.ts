import assert from 'node:assert/strict';
import { test } from 'node:test';
import { haveRealData } from '../helpers/data.ts';
import { MESSAGE_KINDS } from './cases.ts';
import { runFuzz } from './run.ts';

// `npm run fuzz -- --target consumer --cases 20000` runs many more.
const CASES = 500;
const CEILING_MB = 300;

test(`${CASES} mutated real messages through the consumer's decoder: each shown or refused naming partition and offset, under ${CEILING_MB} MB, none hangs`, { timeout: 300_000 }, async (t) => {
  if (!haveRealData(t)) return;
  const seed = Number(process.env.FUZZ_SEED ?? 20251125);
  const summary = await runFuzz('consumer', seed, CASES, { deadlineMs: 30_000 });
  assert.deepEqual(summary.failures, [], `seed ${seed}`);
  assert.equal(summary.cases, CASES);
  assert.deepEqual(Object.keys(summary.outcomes).sort(), [...MESSAGE_KINDS].sort(), 'every kind of mutation ran');
  assert.ok(summary.peakMb < CEILING_MB, `peak RSS ${summary.peakMb.toFixed(0)} MB`);
});
