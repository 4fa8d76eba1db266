// `npm run fuzz -- [--target ingest|consumer|upstream|all] [--cases N] [--seed S] [--only I] [--ceiling MB]
// [--deadline S] [--recycle N]`: (--deadline: seconds a case may take, 120; --recycle: cases per worker
// process, 1000; the ceiling holds for each worker process, of at most that many cases)
// seeded mutations of the real alerts, and poison alerts (items of no bytes, nested named records,
// impossible times, hostile or unknown registry schemas), through `fink ingest`'s code, the
// consumer's decoder and stream2science's (see test/fuzz); `both` is ingest and consumer. Prints the cases, outcomes by kind of mutation, peak RSS and time; exit 1 if a case
// crashed, hung, died or was refused without a clear message, or the peak passed the ceiling.
import { parseArgs } from 'node:util';
import { DEFAULT_DEADLINE_MS, DEFAULT_RECYCLE_EVERY, runFuzz, TARGETS, type Target } from '../test/fuzz/run.ts';

const { values } = parseArgs({ options: { target: { type: 'string', default: 'all' }, cases: { type: 'string', default: '2000' }, seed: { type: 'string' }, only: { type: 'string' }, deadline: { type: 'string', default: String(DEFAULT_DEADLINE_MS / 1000) }, recycle: { type: 'string', default: String(DEFAULT_RECYCLE_EVERY) }, ceiling: { type: 'string', default: '300' } } });
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
const targets: readonly Target[] = values.target === 'all' ? TARGETS : values.target === 'both' ? ['ingest', 'consumer'] : [values.target as Target];
if (targets.some((t) => !TARGETS.includes(t))) {
  process.stderr.write(`fuzz: --target is one of ${TARGETS.join(', ')}, all or both, not ${values.target}\n`);
  process.exit(2);
}
const only = values.only === undefined ? undefined : Number(values.only);
let failed = 0;
for (const target of targets) {
  const summary = await runFuzz(target, seed, only === undefined ? Number(values.cases) : 1, { from: only ?? 0, deadlineMs: Number(values.deadline) * 1000, recycleEvery: Number(values.recycle) });
  process.stdout.write(`${target}: ${summary.cases} cases, seed ${seed}, ${summary.seconds.toFixed(1)} s, peak RSS ${summary.peakMb.toFixed(0)} MB (highest of any worker, each running at most ${values.recycle} cases)\n`);
  for (const [kind, outcomes] of Object.entries(summary.outcomes).sort()) {
    process.stdout.write(`  ${kind.padEnd(16)} ${Object.entries(outcomes).map(([o, n]) => `${o} ${n}`).join(', ')}\n`);
  }
  for (const s of summary.slow) process.stdout.write(`  SLOW case ${s.i} (${s.kind}): ${s.detail ?? ''}\n`);
  for (const f of summary.failures) process.stdout.write(`  FAILED case ${f.i} (${f.kind}): ${f.outcome}: ${f.detail ?? ''}\n`);
  failed += summary.failures.length;
  if (summary.peakMb > Number(values.ceiling)) {
    process.stdout.write(`  FAILED: peak RSS ${summary.peakMb.toFixed(0)} MB is over the ${values.ceiling} MB ceiling\n`);
    failed++;
  }
}
process.exit(failed > 0 ? 1 : 0);
