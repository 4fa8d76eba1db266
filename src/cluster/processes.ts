// The Java processes of the managed clusters (Kafka's nodes, the schema registry): started detached
// so that they outlive the command, found again by their pid files, stopped gracefully then for good.
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FinkError } from '../errors.ts';
import { livePid, processStartTime, writePid } from '../pidfile.ts';
import type { NodeLayout } from './layout.ts';

export async function portIsFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/**
 * The pid of our running broker, or undefined; a pid file whose process is gone (or is not this
 * node's broker: its command line names this node's server.properties) is stale.
 */
export function runningPid(layout: NodeLayout): number | undefined {
  return livePid(layout.pidFile, join(layout.dir, 'server.properties'), true);
}

/**
 * Starts `java args` detached, so that it outlives the command, its output appended to `output`
 * (its owner's only) and its pid written to `pidFile`; `exited` tells whether it has exited since.
 */
export function startJava(args: string[], where: { output: string; pidFile: string; cwd?: string }): { pid: number; exited: () => boolean } {
  const out = openSync(where.output, 'a', 0o600);
  const child = spawn('java', args, { cwd: where.cwd, detached: true, stdio: ['ignore', out, out] });
  closeSync(out);
  const pid = child.pid;
  if (pid === undefined) throw new FinkError('could not start java');
  let exited = false;
  child.once('exit', () => (exited = true));
  child.unref();
  writePid(where.pidFile, pid);
  return { pid, exited: () => exited };
}

/** Runs `spawn` with umask 077, so that what Kafka creates (the metadata log, data) is its owner's only. */
export function privately<T>(spawn: () => T): T {
  const previous = process.umask(0o077);
  try {
    return spawn();
  } finally {
    process.umask(previous);
  }
}

/**
 * SIGTERM to `pids`, then SIGKILL after `graceMs`; resolves once each process is gone, not merely
 * dying (an exiting JVM keeps its ports a little after its command line is cleared).
 */
export async function stopProcesses(pids: number[], graceMs: number): Promise<void> {
  const procs = pids.map((pid) => ({ pid, started: processStartTime(pid) })).filter((p) => p.started !== undefined);
  const alive = () => procs.filter((p) => processStartTime(p.pid) === p.started);
  const signal = (name: NodeJS.Signals) => {
    for (const p of alive()) {
      try {
        process.kill(p.pid, name);
      } catch {
        // exited in the meantime
      }
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (alive().length > 0 && Date.now() < deadline) await sleep(200);
  signal('SIGKILL');
  while (alive().length > 0) await sleep(100);
}
