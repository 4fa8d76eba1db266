// `fink ingest`: Avro alert files (or folders of them) into the science database. Each file goes in
// whole or not at all; a bad file is reported by name with the reason and the others go on.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BadFileError, decodeAlertFile, SchemaCache } from './decode.ts';
import { ScienceWriter } from './store.ts';
import { FinkError } from '../errors.ts';

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
    } catch {
      missing.push(path);
      continue;
    }
    if (stat.isDirectory()) walk(path);
    else files.push(path);
  }
  return { files, missing };
}

export function ingestPaths(dir: string, paths: readonly string[], onProgress?: (p: IngestProgress) => void): IngestReport {
  const { files, missing } = expandPaths(paths);
  const report: IngestReport = { files: 0, alerts: 0, inserted: 0, bytes: 0, nights: [], failed: missing.map((file) => ({ file, reason: 'no such file or folder' })) };
  const nights = new Set<string>();
  const schemas = new SchemaCache();
  const writer = new ScienceWriter(dir);
  try {
    files.forEach((file, i) => {
      try {
        const buf = readFileSync(file);
        const alerts = decodeAlertFile(buf, schemas);
        report.inserted += writer.write(alerts);
        report.alerts += alerts.length;
        report.bytes += buf.length;
        report.files++;
        for (const a of alerts) nights.add(a.night);
      } catch (err) {
        // A bad file or a file the system cannot read (an errno code) fails alone; anything else is a bug.
        if (!(err instanceof BadFileError) && (err instanceof FinkError || (err as NodeJS.ErrnoException).code === undefined)) throw err;
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
