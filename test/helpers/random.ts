// Random choices of a test (when to kill a process) that a failure can replay: drawn from a seed
// that the test prints, taken from FINK_TEST_SEED when set.
import type { TestContext } from 'node:test';

export interface SeededRandom {
  seed: number;
  /** A whole number in [0, bound). */
  below(bound: number): number;
}

export function seededRandom(t: TestContext): SeededRandom {
  const given = process.env.FINK_TEST_SEED;
  const seed = given !== undefined && given !== '' ? Number(given) >>> 0 : Math.floor(Math.random() * 2 ** 32);
  t.diagnostic(`random seed ${seed} (replay with FINK_TEST_SEED=${seed})`);
  // xorshift32: enough for a few delays, and the same on every machine.
  let state = seed === 0 ? 0x9e3779b9 : seed;
  return {
    seed,
    below(bound: number): number {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      state >>>= 0;
      return state % bound;
    },
  };
}
