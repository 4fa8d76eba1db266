import { test } from 'node:test';
import { haveRealData } from '../helpers/data.ts';
import { INGEST_KINDS } from './cases.ts';
import { assertFuzz } from './run.ts';

// `npm run fuzz -- --target ingest --cases 20000` runs many more; FUZZ_SEED picks another seed.
test('300 mutated real alert files through fink ingest: each ingested or refused with a clear reason naming the file, under 300 MB, none hangs', { timeout: 300_000 }, async (t) => {
  if (!haveRealData(t)) return;
  await assertFuzz('ingest', 300, INGEST_KINDS, 300);
});
