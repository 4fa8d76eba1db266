// `npm test`: every test file under test/, one file at a time (they start real Kafka brokers, and
// this machine has two cores). Arguments narrow the run: `npm test -- test/config`.
import { spawnSync } from 'node:child_process';

/**
 * Each test fails after this long: a hung broker or client stops the run with a failure naming the
 * test instead of never ending. Generous: twice as slow a machine, under load, is still in time.
 */
const TEST_TIMEOUT_MS = 15 * 60 * 1000;

const args = process.argv.slice(2);
const targets = args.length > 0 ? args.map((a) => (a.endsWith('.ts') ? a : `${a.replace(/\/$/, '')}/**/*.test.ts`)) : ['test/**/*.test.ts'];
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=1', `--test-timeout=${TEST_TIMEOUT_MS}`, '--test-reporter=spec', ...targets], {
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
