// `fink ingest`: Avro alert files (or folders of them) into the science database. Each file goes in
// whole or not at all; a bad file is reported by name with the reason and the others go on.
//
// Memory stays bounded whatever the size of a file: a file is read block by block, and its alerts
// are kept until they are written only while they fit in a budget. A file past the budget is read
// twice: once to check every alert (keeping none), once to write them a chunk at a time. So it too
// goes in whole or not at all, except if it changes on disk between the two readings or the process
// stops during the second: the alerts written by then stay, and ingesting the file again completes
// it (an alert already stored is not stored twice).
//
// The science log (SCIENCE_STORE=kafka) is written the same way, with DISTRIBUTION_BATCH_BYTES for
// the budget, whole writes gathered into Kafka transactions of at most that (log-gather.ts): a file
// under it is in one transaction; one past it is checked whole first, so only a stop during its
// writing leaves part of it, which the log keeps (ingesting the file again writes it whole, and
// each alert is distributed once).
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BadFileError, readAlertFile, SchemaCache } from './decode.ts';
import type { AlertStore } from './alert-store.ts';
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

/**
 * The writes a file needs, in order: each batch yielded is written by the caller, who sends back
 * how many of it were new (or throws the write's error in). Read, and checked whole, before the
 * first write.
 */
function* fileWrites(file: string, schemas: SchemaCache, keepBytes: number, chunk: number): Generator<NewAlert[], FileResult, number> {
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
    result.inserted = yield kept;
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
        result.inserted += yield batch;
        written += batch.length;
        batch = [];
        batchBytes = 0;
      }
    }
    result.inserted += yield batch;
  } catch (err) {
    if (err instanceof BadFileError) throw new BadFileError(`${err.message} (the file changed while it was ingested: its first ${written} alerts are stored)`);
    throw err;
  }
  return result;
}

/** Every file's writes in turn; a file that fails is recorded in `report` and the next one goes on. */
function* ingestWrites(paths: readonly string[], options: IngestOptions, report: IngestReport): Generator<NewAlert[], void, number> {
  const { onProgress, keepBytes = KEEP_BYTES, chunk = CHUNK } = options;
  const { files, missing } = expandPaths(paths);
  report.failed.push(...missing.map((file) => ({ file, reason: 'no such file or folder' })));
  const nights = new Set<string>();
  const schemas = new SchemaCache();
  for (const [i, file] of files.entries()) {
    try {
      const done = yield* fileWrites(file, schemas, keepBytes, chunk);
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
  }
  report.nights = [...nights].sort();
}

function emptyReport(): IngestReport {
  return { files: 0, alerts: 0, inserted: 0, bytes: 0, nights: [], failed: [] };
}

/** One step of the writes: the batch written, its count sent back, or its error thrown in where it was asked. */
function step(writes: Generator<NewAlert[], void, number>, write: () => number): IteratorResult<NewAlert[], void> {
  let count: number;
  try {
    count = write();
  } catch (err) {
    return writes.throw(err);
  }
  return writes.next(count);
}

/** Ingests into the embedded SQLite store at `dir`. */
export function ingestPaths(dir: string, paths: readonly string[], options: IngestOptions = {}): IngestReport {
  const report = emptyReport();
  const writer = new ScienceWriter(dir);
  const writes = ingestWrites(paths, options, report);
  try {
    for (let next = writes.next(); next.done !== true; ) {
      const batch = next.value;
      next = step(writes, () => writer.write(batch));
    }
  } finally {
    writes.return();
    writer.close();
  }
  return report;
}

/**
 * Ingests into `store` (either store: see alert-store.ts), the same way. The store is the caller's
 * to close. With the science log, `keepBytes` bounds a transaction: a file past it is checked whole,
 * then written in transactions of a quarter of it.
 */
export async function ingestInto(store: AlertStore, paths: readonly string[], options: IngestOptions = {}): Promise<IngestReport> {
  const report = emptyReport();
  const writes = ingestWrites(paths, options, report);
  try {
    for (let next = writes.next(); next.done !== true; ) {
      let count: number;
      try {
        count = await store.write(next.value);
      } catch (err) {
        next = writes.throw(err);
        continue;
      }
      next = writes.next(count);
    }
  } finally {
    writes.return();
  }
  return report;
}
