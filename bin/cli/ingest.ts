// `fink ingest PATH...`
import { commandArgs } from '../../src/cli/args.ts';
import { UsageError } from '../../src/errors.ts';
import { progress } from '../../src/cli/progress.ts';
import { printable } from '../../src/printable.ts';
import { loadConfig } from '../../src/config/config.ts';
import { ingestInto } from '../../src/sciencedb/ingest.ts';
import { createdLine, openStore } from '../../src/sciencedb/open-store.ts';

const USAGE = `usage: fink ingest [--conf FILE] PATH...

Ingests Avro alert files (Object Container Files, one alert or many each) of ZTF or Rubin (LSST,
schemas lsst.vX_Y.alert, every published major version) into the science database at
SCIENCE_DB_PATH; the survey is told by each file's writer schema. A folder stands for the .avro
files in it, recursively. An alert already stored (same survey and candid or diaSourceId) is not
stored again. A bad file is named with the reason; the other
files are ingested and the exit status is 1. A file goes in whole or not at all; it is read block
by block, so its size does not matter (one larger than 32 MB of alerts is read twice: to check
every alert, then to store them).

With SCIENCE_STORE=kafka the alerts go to the science log instead: the topics
SCIENCE_TOPIC_PREFIX<survey> on the cluster at DISTRIBUTION_SERVERS (created on first write),
in Kafka transactions of at most DISTRIBUTION_BATCH_BYTES, each holding whole files (a larger file
is checked whole first, then written a quarter of that at a time). The log keeps every write; an alert ingested twice is
distributed once.
`;

export async function run(argv: string[]): Promise<number> {
  const args = commandArgs(argv, USAGE, {}, true);
  if (args === undefined) return 0;
  const { values, positionals } = args;
  if (positionals.length === 0) throw new UsageError('give at least one file or folder to ingest');
  const config = loadConfig({ confFile: values.conf });
  const { store, kind, where, writeBytes } = openStore(config, 'ingest', createdLine('ingest'));
  const start = performance.now();
  const bar = progress('ingest');
  let report;
  try {
    report = await ingestInto(store, positionals, { onProgress: (p) => bar.update(p.done, p.total), ...(writeBytes === undefined ? {} : { keepBytes: writeBytes }) });
  } finally {
    bar.done();
    await store.close();
  }
  const seconds = (performance.now() - start) / 1000;
  for (const { file, reason } of report.failed) process.stderr.write(`fink ingest: ${printable(file)}: ${printable(reason)}\n`);
  const mb = report.bytes / 1e6;
  const outcome = kind === 'sqlite' ? `${report.inserted} new, ${report.alerts - report.inserted} already stored` : `${report.inserted} written (the log keeps every write; an alert written twice is distributed once)`;
  process.stdout.write(
    `ingested ${report.alerts} alerts from ${report.files} file${report.files === 1 ? '' : 's'} (${mb.toFixed(1)} MB) in ${seconds.toFixed(2)} s: ` +
      outcome + (report.nights.length > 0 ? `; nights ${report.nights.join(', ')}` : '') + `\n  into ${where}\n`,
  );
  if (report.failed.length > 0) {
    process.stderr.write(`fink ingest: ${report.failed.length} file${report.failed.length === 1 ? '' : 's'} not ingested (see above)\n`);
    return 1;
  }
  return 0;
}
