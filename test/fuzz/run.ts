// Runs fuzz cases in child processes started as `fink` is (same Node flags), each case under a
// deadline: a worker silent past it is killed and the case rerun alone in a new worker, so that a
// machine too loaded to finish it in time is told from a real hang (both are reported); a worker
// that dies (out of memory) counts its case as such; both go on with the next case in a new
// worker. A worker runs at most `recycleEvery` cases: `fink` runs for weeks, but a worker that
// runs 20,000 hostile cases in one process measures how far its heap has fragmented, not what one
// case costs, so each case is measured in a process of bounded age. The peak memory is the highest
// VmHWM any worker reached.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { NODE_FLAGS } from '../../src/cli/runtime.ts';
import { packageRoot } from '../../src/config/config.ts';
import { tempDir } from '../helpers/temp.ts';
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
  /** Cases that timed out among others and then ended within the deadline when rerun alone. */
  slow: FuzzFailure[];
  peakMb: number;
  seconds: number;
}

interface WorkerEnd {
  next: number;
  lost?: FuzzFailure;
}

function runWorker(target: Target, seed: number, from: number, to: number, deadlineMs: number, onCase: (line: CaseLine) => void): Promise<WorkerEnd> {
  // The worker's folder is made and removed here: a worker killed at its deadline cleans up nothing.
  const work = tempDir('fuzz');
  const child = spawn(process.execPath, [...NODE_FLAGS, join(packageRoot(), 'test', 'fuzz', 'worker.ts'), target, String(seed), String(from), String(to), work], { stdio: ['ignore', 'pipe', 'pipe'] });
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
      rmSync(work, { recursive: true, force: true });
      if (next >= to && code === 0) return resolve({ next });
      const outcome = timedOut ? 'hang' : 'died';
      resolve({ next: next + 1, lost: { i: next, kind: '?', outcome, detail: timedOut ? `no result within ${deadlineMs} ms` : `exit ${code ?? signal}: ${stderr.trim().split('\n').slice(-3).join(' | ')}` } });
    });
  });
}

export interface FuzzOptions {
  /** How long a worker may stay silent on one case (default 120 s: generous for a loaded machine). */
  deadlineMs?: number;
  from?: number;
  /** Cases per worker process before a fresh one takes over (default 1000). */
  recycleEvery?: number;
  onCase?: (line: CaseLine) => void;
}

export const DEFAULT_DEADLINE_MS = 120_000;
export const DEFAULT_RECYCLE_EVERY = 1000;

export async function runFuzz(target: Target, seed: number, cases: number, options: FuzzOptions = {}): Promise<FuzzSummary> {
  const start = performance.now();
  const from = options.from ?? 0;
  const deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
  const recycleEvery = options.recycleEvery ?? DEFAULT_RECYCLE_EVERY;
  const summary: FuzzSummary = { target, seed, cases: 0, outcomes: {}, failures: [], slow: [], peakMb: 0, seconds: 0 };
  const count = (kind: string, outcome: string) => {
    const byOutcome = (summary.outcomes[kind] ??= {});
    byOutcome[outcome] = (byOutcome[outcome] ?? 0) + 1;
    summary.cases++;
  };
  const record = (line: CaseLine) => {
    count(line.kind, line.outcome);
    summary.peakMb = Math.max(summary.peakMb, line.peakMb);
    if (line.outcome !== 'ok' && line.outcome !== 'refused') summary.failures.push({ i: line.i, kind: line.kind, outcome: line.outcome, detail: line.detail });
    options.onCase?.(line);
  };
  for (let next = from; next < from + cases;) {
    const end = await runWorker(target, seed, next, Math.min(next + recycleEvery, from + cases), deadlineMs, record);
    if (end.lost !== undefined) {
      const lost = end.lost.outcome === 'hang' ? await rerunAlone(target, seed, end.lost, deadlineMs, record, summary.slow) : end.lost;
      if (lost !== undefined) {
        count(lost.kind, lost.outcome);
        summary.failures.push(lost);
      }
    }
    next = end.next;
  }
  summary.seconds = (performance.now() - start) / 1000;
  return summary;
}

/**
 * A case that timed out among others is run once more, alone in a fresh worker: if it ends within
 * the deadline the machine was slow (recorded under `slow` with both runs, its outcome counted as
 * any other); if it times out again it is a hang. Returns the failure to count, if any.
 */
async function rerunAlone(target: Target, seed: number, first: FuzzFailure, deadlineMs: number, record: (line: CaseLine) => void, slow: FuzzFailure[]): Promise<FuzzFailure | undefined> {
  const started = performance.now();
  let line: CaseLine | undefined;
  const end = await runWorker(target, seed, first.i, first.i + 1, deadlineMs, (l) => (line = l));
  const ms = Math.round(performance.now() - started);
  if (line === undefined) {
    const again = end.lost?.detail ?? 'no result';
    return { i: first.i, kind: '?', outcome: end.lost?.outcome ?? 'hang', detail: `${first.detail ?? ''}; rerun alone: ${again}` };
  }
  const ended = line;
  slow.push({ i: first.i, kind: ended.kind, outcome: ended.outcome, detail: `${first.detail ?? ''} among others; rerun alone: ${ended.outcome} in ${ms} ms (worker start included)` });
  record(ended);
  return undefined;
}

/** The fuzz run of `npm test`: every case ends ok or refused clearly, every kind ran, under the ceiling. */
export async function assertFuzz(target: Target, cases: number, kinds: readonly string[], ceilingMb: number): Promise<void> {
  const seed = Number(process.env.FUZZ_SEED ?? 20251125);
  const summary = await runFuzz(target, seed, cases);
  assert.deepEqual(summary.failures, [], `seed ${seed}`);
  assert.equal(summary.cases, cases);
  assert.deepEqual(Object.keys(summary.outcomes).sort(), [...kinds].sort(), 'every kind of mutation ran');
  for (const kind of kinds) assert.ok(Object.values(summary.outcomes[kind]!).reduce((a, b) => a + b, 0) > 0);
  assert.ok(summary.peakMb < ceilingMb, `peak RSS ${summary.peakMb.toFixed(0)} MB (seed ${seed})`);
}
