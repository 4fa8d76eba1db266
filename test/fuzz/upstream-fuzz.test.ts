import { test } from 'node:test';
import { haveLsstData, haveRealData } from '../helpers/data.ts';
import { assertFuzz } from './run.ts';
import { UPSTREAM_KINDS } from './upstream-cases.ts';

// `npm run fuzz -- --target upstream --cases 20000` runs many more; FUZZ_SEED picks another seed.
test("300 poison messages through stream2science's decoder, schemas from a local registry: each decoded or a reason, under 300 MB, none hangs", { timeout: 300_000 }, async (t) => {
  if (!haveRealData(t) || !haveLsstData(t)) return;
  await assertFuzz('upstream', 300, UPSTREAM_KINDS, 300);
});
