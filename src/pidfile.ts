// Pid files of the long-running processes (brokers, the distribution service), checked against
// /proc so that a stale file left by a crash is never taken for a running process.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** The pid in `file` if that process runs and its command line contains `marker`. */
export function livePid(file: string, marker: string): number | undefined {
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker)) return pid;
  } catch {
    // no such process
  }
  return undefined;
}

export function writePid(file: string, pid = process.pid): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${pid}\n`);
}

/** Removes the pid file if it still names `pid`. */
export function removePid(file: string, pid = process.pid): void {
  try {
    if (Number(readFileSync(file, 'utf8').trim()) === pid) rmSync(file);
  } catch {
    // already gone
  }
}
