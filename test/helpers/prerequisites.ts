// Prerequisites that are not part of the project (Python, kcat, a browser, the shared real data in
// ../shared/data, through test/helpers/data.ts): a test without one skips, saying which and how to
// get it; under CI=true, where .ci/run installs them (and the data must be there), it fails instead,
// so that a green CI run never hides a test that did not run.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';

export const IN_CI = process.env.CI === 'true';

/** Always false; skips the test, or fails it under CI=true. */
export function prerequisiteMissing(t: TestContext, reason: string): false {
  if (IN_CI) assert.fail(`${reason} (CI=true: a missing prerequisite is a failure, not a skip)`);
  t.skip(reason);
  return false;
}

/** For a check that a test adds when it can: says so when it cannot (fails under CI=true). */
export function prerequisiteNoted(t: TestContext, reason: string, without: string): void {
  if (IN_CI) assert.fail(`${reason} (CI=true: a missing prerequisite is a failure, not a skip)`);
  t.diagnostic(`${reason}: ${without}`);
}
