// Runs fuzz cases in child processes started as `fink` is (same Node flags), each case under a
// deadline: a worker silent past it is killed and the case counted as a hang, a worker that dies
// (out of memory) counts its case as such; both go on with the next case in a new worker. The
// peak memory is the highest VmHWM any worker reached.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { NODE_FLAGS } from '../../src/cli/runtime.ts';
import { packageRoot } from '../../src/config/config.ts';
import type { CaseLine } from './worker.ts';

export type Target = 'ingest' | 'consumer' | 'upstream';
export const TARGETS: readonly Target[] = ['ingest', 'consumer', 'upstream'];

export interface FuzzFailure {
  i: number;
  kind: string;
  outcome: string;
  detail?: string;
}

export interface FuzzSummary {
  target: Target;
  seed: number;
  cases: number;
  /** Outcomes (ok, refused...) by kind of mutation. */
  outcomes: Record<string, Record<string, number>>;
  failures: FuzzFailure[];
  peakMb: number;
  seconds: number;
}

interface WorkerEnd {
  next: number;
  lost?: FuzzFailure;
}

function runWorker(target: Target, seed: number, from: number, to: number, deadlineMs: number, onCase: (line: CaseLine) => void): Promise<WorkerEnd> {
  const child = spawn(process.execPath, [...NODE_FLAGS, join(packageRoot(), 'test', 'fuzz', 'worker.ts'), target, String(seed), String(from), String(to)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let next = from;
  let stderr = '';
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, deadlineMs);
  };
  arm();
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  createInterface({ input: child.stdout }).on('line', (text) => {
    const line = JSON.parse(text) as CaseLine;
    next = line.i + 1;
    arm();
    onCase(line);
  });
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (next >= to && code === 0) return resolve({ next });
      const outcome = timedOut ? 'hang' : 'died';
      resolve({ next: next + 1, lost: { i: next, kind: '?', outcome, detail: timedOut ? `no result within ${deadlineMs} ms` : `exit ${code ?? signal}: ${stderr.trim().split('\n').slice(-3).join(' | ')}` } });
    });
  });
}

export async function runFuzz(target: Target, seed: number, cases: number, options: { deadlineMs?: number; from?: number; onCase?: (line: CaseLine) => void } = {}): Promise<FuzzSummary> {
  const start = performance.now();
  const from = options.from ?? 0;
  const summary: FuzzSummary = { target, seed, cases: 0, outcomes: {}, failures: [], peakMb: 0, seconds: 0 };
  const count = (kind: string, outcome: string) => {
    const byOutcome = (summary.outcomes[kind] ??= {});
    byOutcome[outcome] = (byOutcome[outcome] ?? 0) + 1;
    summary.cases++;
  };
  for (let next = from; next < from + cases;) {
    const end = await runWorker(target, seed, next, from + cases, options.deadlineMs ?? 30_000, (line) => {
      count(line.kind, line.outcome);
      summary.peakMb = Math.max(summary.peakMb, line.peakMb);
      if (line.outcome !== 'ok' && line.outcome !== 'refused') summary.failures.push({ i: line.i, kind: line.kind, outcome: line.outcome, detail: line.detail });
      options.onCase?.(line);
    });
    if (end.lost !== undefined) {
      count(end.lost.kind, end.lost.outcome);
      summary.failures.push(end.lost);
    }
    next = end.next;
  }
  summary.seconds = (performance.now() - start) / 1000;
  return summary;
}

/** The fuzz run of `npm test`: every case ends ok or refused clearly, every kind ran, under the ceiling. */
export async function assertFuzz(target: Target, cases: number, kinds: readonly string[], ceilingMb: number): Promise<void> {
  const seed = Number(process.env.FUZZ_SEED ?? 20251125);
  const summary = await runFuzz(target, seed, cases, { deadlineMs: 30_000 });
  assert.deepEqual(summary.failures, [], `seed ${seed}`);
  assert.equal(summary.cases, cases);
  assert.deepEqual(Object.keys(summary.outcomes).sort(), [...kinds].sort(), 'every kind of mutation ran');
  for (const kind of kinds) assert.ok(Object.values(summary.outcomes[kind]!).reduce((a, b) => a + b, 0) > 0);
  assert.ok(summary.peakMb < ceilingMb, `peak RSS ${summary.peakMb.toFixed(0)} MB (seed ${seed})`);
}
