// `fink start distribution [--until-caught-up]`
import { join } from 'node:path';
import { commandArgs } from '../../src/cli/args.ts';
import { serveConfiguredMetrics, stopOnSignals } from '../../src/cli/service.ts';
import { FinkError } from '../../src/errors.ts';
import { livePid, removePid, writePid } from '../../src/pidfile.ts';
import { loadConfig, type Config } from '../../src/config/config.ts';
import { streamLogger } from '../../src/log.ts';
import { Metrics } from '../../src/distribution/metrics.ts';
import { runDistribution } from '../../src/distribution/service.ts';
import { distributionSettings } from '../../src/distribution/settings.ts';

const USAGE = `usage: fink start distribution [--until-caught-up] [--conf FILE]

Streams the science database (SCIENCE_DB_PATH) to Kafka (DISTRIBUTION_SERVERS): every alert to
distribution_test, and to each science topic ${'${SUBSTREAM_PREFIX}<filter>_ztf'} the alerts its filter
(FILTERS_DIR) selects. Each batch and its checkpoint are one Kafka transaction: after a crash or a
restart it resumes right after the last committed batch, and read_committed consumers see every
alert exactly once.

  --until-caught-up   distribute what is stored at start, then exit (default: keep running and
                      send new alerts as they are ingested; stop with 'fink stop distribution')

Logs go to stderr, one structured line per event; DISTRIBUTION_METRICS_PORT serves Prometheus
metrics at /metrics.
`;

/** What marks our service in /proc/<pid>/cmdline. */
const MARKER = 'distribution';

/** The service of DISTRIBUTION_ID on this machine: its pid file, and its pid if it runs. */
export function serviceProcess(config: Config): { id: string; file: string; pid: number | undefined } {
  const id = config.require('DISTRIBUTION_ID');
  const file = join(config.require('DISTRIBUTION_STATE_DIR'), `${id}.pid`);
  return { id, file, pid: livePid(file, MARKER) };
}

export async function run(argv: string[]): Promise<number> {
  const args = commandArgs(argv, USAGE, { 'until-caught-up': { type: 'boolean' } });
  if (args === undefined) return 0;
  const { values } = args;
  const config = loadConfig({ confFile: values.conf });
  const { id, file: pids, pid: running } = serviceProcess(config);
  if (running !== undefined && running !== process.pid) {
    throw new FinkError(`a distribution service with DISTRIBUTION_ID=${id} already runs (pid ${running}); 'fink stop distribution' stops it`);
  }
  writePid(pids);
  const log = streamLogger();
  const signal = stopOnSignals(log, 'the open transaction is aborted by Kafka');
  const metrics = new Metrics();
  const server = await serveConfiguredMetrics(metrics, config.get('DISTRIBUTION_METRICS_PORT'), log);
  try {
    const summary = await runDistribution(distributionSettings(config), { untilCaughtUp: values['until-caught-up'] === true, signal, log, metrics });
    const mb = Object.values(summary.topics).reduce((s, t) => s + t.bytes, 0) / 1e6;
    const rate = summary.seconds > 0 ? summary.alerts / summary.seconds : 0;
    process.stdout.write(`distributed ${summary.alerts} alerts in ${summary.batches} transactions, ${mb.toFixed(1)} MB, in ${summary.seconds.toFixed(1)} s (${rate.toFixed(0)} alerts/s)\n`);
    for (const [topic, t] of Object.entries(summary.topics)) process.stdout.write(`  ${topic.padEnd(32)} ${String(t.messages).padStart(9)} messages  ${(t.bytes / 1e6).toFixed(1).padStart(9)} MB\n`);
    if (summary.filterErrors > 0) process.stdout.write(`  ${summary.filterErrors} filter errors (alerts counted as not matching; see the log)\n`);
    if (summary.skipped > 0) process.stdout.write(`  ${summary.skipped} messages skipped as too large (recorded in ${join(config.require('DISTRIBUTION_STATE_DIR'), 'skipped.jsonl')})\n`);
    return 0;
  } finally {
    server?.close();
    removePid(pids);
  }
}
