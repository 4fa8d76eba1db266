// stream2science's heap setting (src/upstream/heap.ts): a process turning over alert-sized buffers
// as stream2science does (test/helpers/buffer-churn.ts) runs fewer full collections with it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { NODE_FLAGS } from '../../src/cli/runtime.ts';
import { packageRoot } from '../../src/config/config.ts';

function fullCollections(withSetting: boolean): number {
  const run = spawnSync(process.execPath, [...NODE_FLAGS, join(packageRoot(), 'test', 'helpers', 'buffer-churn.ts')], { encoding: 'utf8', env: { ...process.env, WITH_SETTING: withSetting ? '1' : '0' }, timeout: 300_000 });
  assert.equal(run.status, 0, run.stderr);
  const [count, read] = run.stdout.trim().split(' ');
  assert.equal(read, 'ok');
  return Number(count);
}

test('with its heap setting, a stream of alert-sized buffers starts fewer full collections', () => {
  const without = fullCollections(false);
  const withSetting = fullCollections(true);
  assert.ok(without >= 10, `the churn alone starts full collections (${without})`);
  assert.ok(withSetting < without, `${withSetting} full collections with the setting, ${without} without`);
});
