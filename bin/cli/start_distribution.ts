// `fink start distribution [--until-caught-up] [--group G]`
import { join } from 'node:path';
import { commandArgs } from '../../src/cli/args.ts';
import { loadConfig } from '../../src/config/config.ts';
import { Metrics } from '../../src/distribution/metrics.ts';
import { runGroupDistribution } from '../../src/distribution/group-service.ts';
import { runDistribution, type DistributionOptions, type DistributionSummary } from '../../src/distribution/service.ts';
import { distributionSettings, type DistributionSettings } from '../../src/distribution/settings.ts';
import { UsageError } from '../../src/errors.ts';
import { runService } from '../../src/service/run.ts';
import { DISTRIBUTION_SERVICE } from '../../src/service/services.ts';

const USAGE = `usage: fink start distribution [--until-caught-up] [--group G] [--conf FILE]

Streams the science database (SCIENCE_DB_PATH) to Kafka (DISTRIBUTION_SERVERS): every alert to
distribution_test, and to each science topic ${'${SUBSTREAM_PREFIX}<filter>_ztf'} the alerts its filter
(FILTERS_DIR) selects. Each batch and its checkpoint are one Kafka transaction: after a crash or a
restart it resumes right after the last committed batch, and read_committed consumers see every
alert exactly once.

  --until-caught-up   distribute what is stored at start, then exit (default: keep running and
                      send new alerts as they are ingested; stop with 'fink stop distribution');
                      with --group: exit once the group's lag on every partition of the science
                      log has been zero for 3 s
  --group G           with the science log (SCIENCE_STORE=kafka; or DISTRIBUTION_GROUP=G): join
                      the consumer group G, whose instances, on any number of hosts, share the
                      log's partitions. Each instance needs the cluster (DISTRIBUTION_SERVERS),
                      the group, and a DISTRIBUTION_ID of its own (its static membership and its
                      transactional id). Each batch and the group's offsets for it are one
                      transaction; an instance that dies hands its partitions over within 15 s.
                      Without it, SCIENCE_STORE=kafka runs a group of one named DISTRIBUTION_ID.

Messages are in fink-client's format (key: the writer schema; value: the datum).
DISTRIBUTION_FORMAT=confluent, or per topic DISTRIBUTION_FORMAT_TOPICS='fink_.*_lsst=confluent',
writes the Confluent wire format instead (key: the object id; value: a zero byte, the schema's id
in DISTRIBUTION_SCHEMA_REGISTRY, the datum), registering each schema under <topic>-value first.

Logs go to stderr, one structured line per event; DISTRIBUTION_METRICS_PORT serves Prometheus
metrics at /metrics.
`;

export async function run(argv: string[]): Promise<number> {
  const args = commandArgs(argv, USAGE, { 'until-caught-up': { type: 'boolean' }, group: { type: 'string' } });
  if (args === undefined) return 0;
  const { values } = args;
  const config = loadConfig({ confFile: values.conf });
  const metrics = new Metrics();
  return runService(config, DISTRIBUTION_SERVICE, metrics, async (log, signal) => {
    const summary = await distribute(distributionSettings(config), values.group, { untilCaughtUp: values['until-caught-up'] === true, signal, log, metrics });
    const mb = Object.values(summary.topics).reduce((s, t) => s + t.bytes, 0) / 1e6;
    const rate = summary.seconds > 0 ? summary.alerts / summary.seconds : 0;
    process.stdout.write(`distributed ${summary.alerts} alerts in ${summary.batches} transactions, ${mb.toFixed(1)} MB, in ${summary.seconds.toFixed(1)} s (${rate.toFixed(0)} alerts/s)\n`);
    for (const [topic, t] of Object.entries(summary.topics)) process.stdout.write(`  ${topic.padEnd(32)} ${String(t.messages).padStart(9)} messages  ${(t.bytes / 1e6).toFixed(1).padStart(9)} MB\n`);
    if (summary.filterErrors > 0) process.stdout.write(`  ${summary.filterErrors} filter errors (alerts counted as not matching; see the log)\n`);
    if (summary.duplicates > 0) process.stdout.write(`  ${summary.duplicates} duplicates in the science log passed over (the same alert within SCIENCE_DEDUP_WINDOW offsets)\n`);
    if (summary.refusedRecords > 0) process.stdout.write(`  ${summary.refusedRecords} records of the science log that are not alerts skipped (recorded in ${join(config.require('DISTRIBUTION_STATE_DIR'), 'refused-records.jsonl')})\n`);
    if (summary.skipped > 0) process.stdout.write(`  ${summary.skipped} messages skipped as too large (recorded in ${join(config.require('DISTRIBUTION_STATE_DIR'), 'skipped.jsonl')})\n`);
    return 0;
  });
}

/** The science database by its checkpoint, or the science log as a consumer group. */
function distribute(settings: DistributionSettings, groupFlag: string | undefined, options: DistributionOptions): Promise<DistributionSummary> {
  const group = groupFlag ?? settings.group;
  if (group !== undefined && settings.scienceStore !== 'kafka') throw new UsageError(`--group (DISTRIBUTION_GROUP=${group}) needs the science log: set SCIENCE_STORE=kafka (the SQLite science database is read by one instance)`);
  if (settings.scienceStore === 'sqlite') return runDistribution(settings, options);
  return runGroupDistribution({ ...settings, group: group ?? settings.id }, options);
}
