import { test } from 'node:test';
import { haveRealData } from '../helpers/data.ts';
import { MESSAGE_KINDS } from './cases.ts';
import { assertFuzz } from './run.ts';

// `npm run fuzz -- --target consumer --cases 20000` runs many more; FUZZ_SEED picks another seed.
test('500 mutated real messages through the consumer decoder: each shown or refused naming partition and offset, under 300 MB, none hangs', { timeout: 300_000 }, async (t) => {
  if (!haveRealData(t)) return;
  await assertFuzz('consumer', 500, MESSAGE_KINDS, 300);
});
