import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { NODE_FLAGS } from '../../src/cli/runtime.ts';
import { packageRoot } from '../../src/config/config.ts';
import { testEnv } from '../helpers/cli.ts';
import { tempDir } from '../helpers/temp.ts';

const root = packageRoot();

test('the fink command carries the runtime flags in its shebang, source and build alike', (t) => {
  const expected = `#!/usr/bin/env -S node ${NODE_FLAGS.join(' ')}`;
  assert.equal(readFileSync(join(root, 'bin', 'fink.ts'), 'utf8').split('\n')[0], expected);
  const built = join(root, 'dist', 'bin', 'fink.js');
  if (!existsSync(built)) return t.skip('dist/ is not built (npm run build)');
  assert.equal(readFileSync(built, 'utf8').split('\n')[0], expected);
});

test('the published command runs through its shebang with the project\'s Node first on the PATH (as npx runs it)', (t) => {
  const bin = join(root, 'dist', 'bin', 'fink.js');
  if (!existsSync(bin)) return t.skip('dist/ is not built (npm run build)');
  const run = spawnSync(bin, ['--help'], { encoding: 'utf8', env: testEnv({ PATH: `${join(root, 'node_modules', '.bin')}:${process.env.PATH ?? ''}` }) });
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /usage: fink <command>/);
});

test('a command keeps the modules it compiled in Node\'s compile cache, in the user\'s cache folder and not the shared temporary one', () => {
  const home = tempDir('compile-cache-home');
  const tmp = tempDir('compile-cache-tmp');
  const env = testEnv({ HOME: home, TMPDIR: tmp });
  delete env.NODE_COMPILE_CACHE;
  delete env.NODE_DISABLE_COMPILE_CACHE;
  delete env.XDG_CACHE_HOME;
  const run = spawnSync(process.execPath, [...NODE_FLAGS, join(root, 'bin', 'fink.ts'), '--help'], { encoding: 'utf8', env });
  assert.equal(run.status, 0, run.stderr);
  const cache = join(home, '.cache', 'fink-distribution', 'node-compile-cache');
  assert.ok(existsSync(cache), `no compile cache at ${cache}`);
  assert.ok(readdirSync(cache, { recursive: true }).length > 0, `the compile cache at ${cache} is empty`);
  assert.deepEqual(readdirSync(tmp), [], 'nothing in the temporary folder');
});
