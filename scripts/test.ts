// `npm test`: every test file under test/. The files start real Kafka brokers, so each runs alone
// in its `node --test` (one test at a time), and the files are shared out to lanes side by side:
// most of a file's time is waiting (a broker electing leaders, a session timing out, a consumer
// group settling), which another lane fills on this machine's two cores.
// - Two main lanes (FINK_TEST_LANES) take the next file from one queue, the slowest known first,
//   so neither waits long on the other at the end.
// - The tests that make hosts of their own (`*hosts.test.ts`: network namespaces, each with its own
//   addresses) run in a lane of their own, one after another: they cut links and time sessions out,
//   and two at once would starve each other.
// Each lane picks its test ports from its own slice (FINK_TEST_PORTS, test/helpers/ports.ts),
// so two lanes never hand out the same port. A file's report is printed whole when it ends, so
// reports never interleave; a summary of every file closes the run, with the failing tests of each
// failed file repeated there, where a long log stays in view. Arguments narrow the run:
// `npm test -- test/config`.
import { spawn } from 'node:child_process';
import { globSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { portSlice } from '../test/helpers/ports.ts';

/**
 * Each test fails after this long: a hung broker or client stops the run with a failure naming the
 * test instead of never ending. Generous: twice as slow a machine, under load, is still in time.
 */
const TEST_TIMEOUT_MS = 15 * 60 * 1000;
const HOSTS_LANE = /hosts\.test\.ts$/;
/**
 * The files that take minutes (a CI run's figures), started first: a queue that ends on one of them
 * leaves the other lane idle for as long.
 */
const SLOWEST = [
  'test/distribution/group.test.ts',
  'test/distribution/broker-loss.test.ts',
  'test/distribution/exactly-once.test.ts',
  'test/distribution/continuous.test.ts',
  'test/upstream/log-stream2science.test.ts',
  'test/userfilter/registrations.test.ts',
  'test/interop/confluent-distribution.test.ts',
  'test/simulator/simulator.test.ts',
  'test/interop/live-chain.test.ts',
];
const MAIN_LANES = Number(process.env.FINK_TEST_LANES ?? 2);

const args = process.argv.slice(2);
const patterns = args.length > 0 ? args.map((a) => (a.endsWith('.ts') ? a : `${a.replace(/\/$/, '')}/**/*.test.ts`)) : ['test/**/*.test.ts'];
const files = [...new Set(patterns.flatMap((p) => globSync(p)))].sort();
if (files.length === 0) {
  process.stderr.write(`npm test: no test file matches ${patterns.join(' ')}\n`);
  process.exit(1);
}
if (!Number.isInteger(MAIN_LANES) || MAIN_LANES < 1) {
  process.stderr.write(`npm test: FINK_TEST_LANES must be a whole number of at least 1, not ${process.env.FINK_TEST_LANES}\n`);
  process.exit(1);
}
const rank = (file: string) => {
  const i = SLOWEST.indexOf(file);
  return i === -1 ? SLOWEST.length : i;
};
const slowFirst = (a: string, b: string) => rank(a) - rank(b);
const hostsFiles = files.filter((f) => HOSTS_LANE.test(f));
const mainFiles = files.filter((f) => !HOSTS_LANE.test(f)).sort(slowFirst);

interface FileResult {
  file: string;
  code: number;
  seconds: number;
  counts: Record<'tests' | 'pass' | 'fail' | 'skipped' | 'cancelled', number>;
  /** The report's closing list of failing tests with their errors (empty when none failed). */
  failures: string;
}

/**
 * How much of a failed file's list of failures the closing summary repeats: the end of a long run's
 * output is what a CI log keeps in view, and a failure must be readable there, not only in the
 * file's report far above.
 */
const FAILURE_LINES = 80;

/** The spec reporter's closing "failing tests" section of a report, at most FAILURE_LINES lines. */
function failuresOf(text: string): string {
  const at = text.lastIndexOf('✖ failing tests:');
  if (at < 0) return '';
  const lines = text.slice(at).trimEnd().split('\n');
  return lines.length <= FAILURE_LINES ? lines.join('\n') : [...lines.slice(0, FAILURE_LINES), `  ... (${lines.length - FAILURE_LINES} more lines in the file's report above)`].join('\n');
}

const scratch = mkdtempSync(join(tmpdir(), 'fink-test-lanes-'));

/** Runs one file in its own `node --test`, its report into a file of the scratch folder. */
function runFile(file: string, ports: string, index: number): Promise<FileResult> {
  const report = join(scratch, `${index}.txt`);
  const started = Date.now();
  const child = spawn(process.execPath, ['--test', '--test-concurrency=1', `--test-timeout=${TEST_TIMEOUT_MS}`, '--test-reporter=spec', `--test-reporter-destination=${report}`, file], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, FINK_TEST_PORTS: ports },
  });
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      let text: string;
      try {
        text = readFileSync(report, 'utf8');
      } catch {
        text = `(no report: node --test ended (${signal ?? code}) before writing one)\n`;
      }
      process.stdout.write(`\n== ${file} ==\n${text}`);
      const count = (name: string) => Number(new RegExp(`^ℹ ${name} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
      resolve({
        file,
        code: code ?? (signal === null ? 1 : 128),
        seconds: (Date.now() - started) / 1000,
        counts: { tests: count('tests'), pass: count('pass'), fail: count('fail'), skipped: count('skipped'), cancelled: count('cancelled') },
        failures: failuresOf(text),
      });
    });
  });
}

let reports = 0;
/** A lane: takes the next file of `queue` until none is left. */
async function lane(queue: string[], ports: string, results: FileResult[]): Promise<void> {
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) results.push(await runFile(file, ports, reports++));
}

const started = Date.now();
const results: FileResult[] = [];
const queue = [...mainFiles];
const lanes = hostsFiles.length > 0 ? MAIN_LANES + 1 : MAIN_LANES;
await Promise.all([
  ...Array.from({ length: Math.min(MAIN_LANES, mainFiles.length) }, (_, i) => lane(queue, portSlice(i, lanes), results)),
  ...(hostsFiles.length > 0 ? [lane([...hostsFiles], portSlice(lanes - 1, lanes), results)] : []),
]);
rmSync(scratch, { recursive: true, force: true });

const total = { tests: 0, pass: 0, fail: 0, skipped: 0, cancelled: 0 };
for (const r of results) for (const k of Object.keys(total) as (keyof typeof total)[]) total[k] += r.counts[k];
const failed = results.filter((r) => r.code !== 0);
process.stdout.write(`\n== npm test: ${results.length} file(s) in ${MAIN_LANES} lane(s)${hostsFiles.length > 0 ? ' and the hosts lane' : ''}, ${((Date.now() - started) / 1000).toFixed(0)} s ==\n`);
process.stdout.write(`tests ${total.tests}, pass ${total.pass}, fail ${total.fail}, skipped ${total.skipped}, cancelled ${total.cancelled}\n`);
for (const r of [...results].sort((a, b) => b.seconds - a.seconds).slice(0, 10)) process.stdout.write(`  ${r.seconds.toFixed(0).padStart(5)} s  ${r.file}\n`);
if (failed.length > 0) {
  for (const r of failed) process.stdout.write(`\n== failed: ${r.file} (exit ${r.code}) ==\n${r.failures === '' ? '(the report lists no failing test: see the file\'s report above)' : r.failures}\n`);
  process.stdout.write(`failed: ${failed.map((r) => `${r.file} (exit ${r.code})`).join(', ')}\n`);
  process.exit(1);
}
