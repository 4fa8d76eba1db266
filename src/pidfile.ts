// Pid files of the long-running processes (brokers, the distribution service, stream2science). A pid file holds
// the pid and the process's start time (field 22 of /proc/<pid>/stat): a process is ours only if
// both match and its command line has the expected marker, so neither a stale file left by a
// crash nor a later process that reused the pid is ever taken for ours (or sent a signal).
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { replaceFile } from './files.ts';

/**
 * The start time of `pid` in clock ticks since boot, or undefined if there is no such process (or
 * only its zombie: it has exited, released its ports, and waits for its parent to reap it).
 */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count from after it.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[0] === 'Z' ? undefined : fields[19];
  } catch {
    return undefined;
  }
}

/**
 * The pid in `file` if that very process (same start time) runs and its command line contains
 * `marker`. A file without a start time (as written before start times were kept) cannot tell its
 * process from a later one with the same pid: it counts only with `withoutStartTime`, for callers
 * whose marker names the process alone (a broker's own server.properties).
 */
export function livePid(file: string, marker: string, withoutStartTime = false): number | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    // No file, or one removed since it was seen (its process stopping): nothing runs.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const [pidText, started] = text.trim().split(/\s+/);
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  if (started === undefined ? !withoutStartTime : processStartTime(pid) !== started) return undefined;
  try {
    if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker)) return pid;
  } catch {
    // gone in the meantime
  }
  return undefined;
}

/** Writes the pid file of `pid` (a running process), never through a symlink planted in its place. */
export function writePid(file: string, pid = process.pid): void {
  const started = processStartTime(pid);
  if (started === undefined) throw new Error(`process ${pid} is not running: no pid file written`);
  // A folder made here is its owner's only; an existing one is left as its owner set it.
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  replaceFile(file, `${pid} ${started}\n`);
}

/** Removes the pid file if it still names `pid`. */
export function removePid(file: string, pid = process.pid): void {
  try {
    if (Number(readFileSync(file, 'utf8').trim().split(/\s+/)[0]) === pid) rmSync(file);
  } catch {
    // already gone
  }
}

/** A long-running service of this machine: its pid file (`<id>.pid` in its state folder), and its pid if it runs. */
export function servicePid(stateDir: string, id: string, marker: string): { file: string; pid: number | undefined } {
  const file = join(stateDir, `${id}.pid`);
  return { file, pid: livePid(file, marker) };
}
