// Dropping old nights: Rubin's volumes fill disks (a night is up to about 2 TB of alerts), so nights
// older than a given age go, whole, file and write-ahead log together. Which nights may go is the
// caller's decision (never one the distribution has not finished).
import { rmSync } from 'node:fs';
import { listNights, nightBytes, nightFile } from './store.ts';

const DAY_MS = 86_400_000;

/** The age in whole days of a night (YYYYMMDD) at `now`. */
export function nightAgeDays(night: string, now: Date): number {
  const start = Date.UTC(Number(night.slice(0, 4)), Number(night.slice(4, 6)) - 1, Number(night.slice(6, 8)));
  return Math.floor((now.getTime() - start) / DAY_MS);
}

/** The nights of a science database older than `days` days, oldest first, with their size on disk. */
export function nightsOlderThan(dir: string, days: number, now = new Date()): { night: string; bytes: number }[] {
  return listNights(dir)
    .filter((night) => nightAgeDays(night, now) > days)
    .map((night) => ({ night, bytes: nightBytes(dir, night) }));
}

/** Removes a night's file and its write-ahead log. */
export function removeNight(dir: string, night: string): void {
  const base = nightFile(dir, night);
  // The log and the shared memory first: a file without them is a consistent database.
  for (const file of [`${base}-wal`, `${base}-shm`, base]) rmSync(file, { force: true });
}
