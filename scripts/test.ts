// `npm test`: every test file under test/, one file at a time (they start real Kafka brokers, and
// this machine has two cores), in two lanes side by side: the tests that make hosts of their own
// (`*hosts.test.ts`: network namespaces, each with its own addresses, so they share no port with
// anything) run beside the others. Their time is mostly waiting (brokers electing leaders, a
// session timing out, a host cut off for 30 s), which the other lane fills. Their report is printed
// after the main lane's, so the two never interleave. Arguments narrow the run:
// `npm test -- test/config`.
import { spawn } from 'node:child_process';
import { globSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Each test fails after this long: a hung broker or client stops the run with a failure naming the
 * test instead of never ending. Generous: twice as slow a machine, under load, is still in time.
 */
const TEST_TIMEOUT_MS = 15 * 60 * 1000;
const HOSTS_LANE = /hosts\.test\.ts$/;

const args = process.argv.slice(2);
const patterns = args.length > 0 ? args.map((a) => (a.endsWith('.ts') ? a : `${a.replace(/\/$/, '')}/**/*.test.ts`)) : ['test/**/*.test.ts'];
const files = [...new Set(patterns.flatMap((p) => globSync(p)))].sort();
if (files.length === 0) {
  process.stderr.write(`npm test: no test file matches ${patterns.join(' ')}\n`);
  process.exit(1);
}
const hostsLane = files.filter((f) => HOSTS_LANE.test(f));
const mainLane = files.filter((f) => !HOSTS_LANE.test(f));

function run(lane: readonly string[], destination: string): Promise<number> {
  if (lane.length === 0) return Promise.resolve(0);
  const child = spawn(process.execPath, ['--test', '--test-concurrency=1', `--test-timeout=${TEST_TIMEOUT_MS}`, '--test-reporter=spec', `--test-reporter-destination=${destination}`, ...lane], {
    stdio: destination === 'stdout' ? 'inherit' : ['ignore', 'inherit', 'inherit'],
  });
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal === null ? 1 : 128))));
}

const scratch = mkdtempSync(join(tmpdir(), 'fink-test-lanes-'));
const hostsReport = join(scratch, 'hosts-lane.txt');
const [main, hosts] = await Promise.all([run(mainLane, 'stdout'), run(hostsLane, hostsReport)]);
if (hostsLane.length > 0) {
  process.stdout.write(`\n== the tests on hosts of their own (${hostsLane.join(', ')}), run beside the others ==\n`);
  try {
    process.stdout.write(readFileSync(hostsReport, 'utf8'));
  } catch {
    process.stdout.write('(no report: the lane ended before writing one)\n');
  }
}
rmSync(scratch, { recursive: true, force: true });
process.exit(main !== 0 ? main : hosts);
