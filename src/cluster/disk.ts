// The disk under the managed cluster's state folder: what the folder takes and what its file
// system has left. `fink_kafka status` shows both; the service sizes its topics' retention by the
// free space when no retention.bytes is configured (docs/architecture.md, Managed Kafka cluster).
import { lstatSync, readdirSync, statfsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Bytes the files under `dir` occupy on disk (allocated blocks, as du counts them); 0 if absent. */
export function diskUsage(dir: string): number {
  let total = 0;
  const stack = [dir];
  while (stack.length > 0) {
    const path = stack.pop()!;
    let st;
    try {
      st = lstatSync(path);
    } catch {
      continue; // removed meanwhile (Kafka deletes segments as it goes), or never there
    }
    total += st.blocks * 512;
    if (st.isDirectory()) {
      let names: string[] = [];
      try {
        names = readdirSync(path);
      } catch {
        // unreadable: counted as its own entry only
      }
      for (const name of names) stack.push(join(path, name));
    }
  }
  return total;
}

export interface FileSystemSpace {
  /** Bytes an unprivileged process may still write. */
  free: number;
  total: number;
}

/** The space of the file system that holds `path`, or would hold it (its nearest existing ancestor). */
export function fileSystemSpace(path: string): FileSystemSpace {
  let at = path;
  for (;;) {
    try {
      const fs = statfsSync(at);
      return { free: fs.bavail * fs.bsize, total: fs.blocks * fs.bsize };
    } catch (err) {
      const parent = dirname(at);
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || parent === at) throw err;
      at = parent;
    }
  }
}

/** Bytes as a person reads them: `1.2 GB`, `340 MB` (decimal units, as df -H). */
export function humanBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
