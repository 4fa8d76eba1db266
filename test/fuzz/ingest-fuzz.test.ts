import assert from 'node:assert/strict';
import { test } from 'node:test';
import { haveRealData } from '../helpers/data.ts';
import { INGEST_KINDS } from './cases.ts';
import { runFuzz } from './run.ts';

// `npm run fuzz -- --target ingest --cases 20000` runs many more.
const CASES = 300;
const CEILING_MB = 300;

test(`${CASES} mutated real alert files through fink ingest: each ingested or refused with a clear reason, under ${CEILING_MB} MB, none hangs`, { timeout: 300_000 }, async (t) => {
  if (!haveRealData(t)) return;
  const seed = Number(process.env.FUZZ_SEED ?? 20251125);
  const summary = await runFuzz('ingest', seed, CASES, { deadlineMs: 30_000 });
  assert.deepEqual(summary.failures, [], `seed ${seed}`);
  assert.equal(summary.cases, CASES);
  assert.deepEqual(Object.keys(summary.outcomes).sort(), [...INGEST_KINDS].sort(), 'every kind of mutation ran');
  assert.ok((summary.outcomes['deflate-bomb']?.refused ?? 0) > 0);
  assert.ok(summary.peakMb < CEILING_MB, `peak RSS ${summary.peakMb.toFixed(0)} MB`);
});
