// What the commands that write alerts (ingest, simulate) need of a science store, and nothing more:
// the embedded SQLite store (ScienceWriter) and the science log (ScienceLogWriter) are both one.
import type { NewAlert } from './store.ts';

export interface AlertStore {
  /**
   * Writes `alerts` all or nothing; says how many were new: the SQLite store does not store an
   * alert twice, the log keeps every write (an alert written twice is distributed once).
   */
  write(alerts: readonly NewAlert[]): number | Promise<number>;
  close(): void | Promise<void>;
}
