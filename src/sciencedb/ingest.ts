// `fink ingest`: Avro alert files (or folders of them) into the science database. Each file goes in
// whole or not at all; a bad file is reported by name with the reason and the others go on.
//
// Memory stays bounded whatever the size of a file: a file is read block by block, and its alerts
// are kept until they are written only while they fit in a budget. A file past the budget is read
// twice: once to check every alert (keeping none), once to write them a chunk at a time. So it too
// goes in whole or not at all, except if it changes on disk between the two readings or the process
// stops during the second: the alerts written by then stay, and ingesting the file again completes
// it (an alert already stored is not stored twice).
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BadFileError, readAlertFile, SchemaCache } from './decode.ts';
import { ScienceWriter, type NewAlert } from './store.ts';

export interface IngestProgress {
  file: string;
  done: number;
  total: number;
}

export interface IngestReport {
  files: number;
  alerts: number;
  inserted: number;
  bytes: number;
  nights: string[];
  failed: { file: string; reason: string }[];
}

/** The files named: files as given, folders expanded to the `.avro` files inside, recursively. */
export function expandPaths(paths: readonly string[]): { files: string[]; missing: string[] } {
  const files: string[] = [];
  const missing: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile() && entry.name.endsWith('.avro')) files.push(full);
    }
  };
  for (const path of paths) {
    let stat;
    try {
      stat = statSync(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') missing.push(path);
      // Anything else (no permission, a name too long) is not "missing": tried as a file, its
      // reading fails and names the cause.
      else files.push(path);
      continue;
    }
    if (stat.isDirectory()) walk(path);
    else files.push(path);
  }
  return { files, missing };
}

export interface IngestOptions {
  onProgress?: (p: IngestProgress) => void;
  /** Datum bytes of one file kept in memory before it is read twice instead (see above). */
  keepBytes?: number;
  /** Alerts per transaction when a file is written in chunks (fewer if they pass 1/4 of keepBytes). */
  chunk?: number;
}

const KEEP_BYTES = 32 << 20;
const CHUNK = 5000;

interface FileResult {
  alerts: number;
  inserted: number;
  nights: Set<string>;
}

function ingestFile(file: string, schemas: SchemaCache, writer: ScienceWriter, keepBytes: number, chunk: number): FileResult {
  const result: FileResult = { alerts: 0, inserted: 0, nights: new Set() };
  let kept: NewAlert[] | null = [];
  let keptBytes = 0;
  for (const alert of readAlertFile(file, schemas)) {
    result.alerts++;
    result.nights.add(alert.night);
    if (kept === null) continue;
    kept.push(alert);
    keptBytes += alert.datum.length;
    if (keptBytes > keepBytes) kept = null;
  }
  if (kept !== null) {
    result.inserted = writer.write(kept);
    return result;
  }
  // Every alert checked: now written, a chunk at a time.
  let batch: NewAlert[] = [];
  let batchBytes = 0;
  let written = 0;
  try {
    for (const alert of readAlertFile(file, schemas)) {
      batch.push(alert);
      batchBytes += alert.datum.length;
      if (batch.length >= chunk || batchBytes >= keepBytes / 4) {
        result.inserted += writer.write(batch);
        written += batch.length;
        batch = [];
        batchBytes = 0;
      }
    }
    result.inserted += writer.write(batch);
  } catch (err) {
    if (err instanceof BadFileError) throw new BadFileError(`${err.message} (the file changed while it was ingested: its first ${written} alerts are stored)`);
    throw err;
  }
  return result;
}

export function ingestPaths(dir: string, paths: readonly string[], options: IngestOptions = {}): IngestReport {
  const { onProgress, keepBytes = KEEP_BYTES, chunk = CHUNK } = options;
  const { files, missing } = expandPaths(paths);
  const report: IngestReport = { files: 0, alerts: 0, inserted: 0, bytes: 0, nights: [], failed: missing.map((file) => ({ file, reason: 'no such file or folder' })) };
  const nights = new Set<string>();
  const schemas = new SchemaCache();
  const writer = new ScienceWriter(dir);
  try {
    files.forEach((file, i) => {
      try {
        const done = ingestFile(file, schemas, writer, keepBytes, chunk);
        report.inserted += done.inserted;
        report.alerts += done.alerts;
        report.bytes += statSync(file).size;
        report.files++;
        for (const night of done.nights) nights.add(night);
      } catch (err) {
        // A system error (no such file, a folder given for a file, no permission) names its cause.
        if (!(err instanceof BadFileError) && typeof (err as NodeJS.ErrnoException).errno !== 'number') throw err;
        report.failed.push({ file, reason: (err as Error).message });
      }
      onProgress?.({ file, done: i + 1, total: files.length });
    });
  } finally {
    writer.close();
  }
  report.nights = [...nights].sort();
  return report;
}
