// The benchmark's command line (bench/run.ts): a wrong option is refused in one line with exit 2
// before any broker is started or database built, so a typo costs nothing.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

const run = (args: string[]) => spawnSync(process.execPath, ['bench/run.ts', ...args], { cwd: new URL('../..', import.meta.url), encoding: 'utf8', timeout: 120_000 });

const wrong: [string[], RegExp][] = [
  [['--bogus'], /Unknown option '--bogus'/],
  [['--profile', 'hsc'], /--profile is a comma-separated list of .*got 'hsc'/],
  [['--repeat', '0'], /--repeat is a whole number of at least 1, got '0'/],
  [['--profile', 'lsst', '--user-filter-sending', '3'], /--user-filter-sending goes with --user-filters/],
  [['--profile', 'lsst', '--user-filters', '0,100', '--user-filter-sending', 'x'], /--user-filter-sending is a whole number \(0 or more\), got 'x'/],
  [['--profile', 'lsst', '--user-filters', '0,100', '--user-filter-conditions', 'silent', '--user-filter-sending', '3'], /silent ones send nothing/],
];

for (const [args, message] of wrong) {
  test(`npm run bench -- ${args.join(' ')}: refused in one line, exit 2, nothing started`, () => {
    const result = run(args);
    assert.equal(result.status, 2, `exit ${result.status}, signal ${result.signal}; stdout: ${result.stdout.slice(0, 300)}`);
    assert.equal(result.stdout, '', 'nothing was started or reported');
    const lines = result.stderr.trim().split('\n');
    assert.equal(lines.length, 1, result.stderr);
    assert.match(lines[0]!, /^npm run bench: /);
    assert.match(lines[0]!, message);
  });
}
