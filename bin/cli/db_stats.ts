// `fink db stats [--json] [--exact]`
import { commandArgs } from '../../src/cli/args.ts';
import type { Config } from '../../src/config/config.ts';
import { loadConfig } from '../../src/config/config.ts';
import { kafkaClientOptions } from '../../src/kafka/client-options.ts';
import { isUnreachable, unreachableError } from '../../src/kafka/errors.ts';
import { logStats, type LogStats } from '../../src/sciencedb/log-stats.ts';
import { dbStats } from '../../src/sciencedb/stats.ts';

const USAGE = `usage: fink db stats [--json] [--exact] [--conf FILE]

What the science database at SCIENCE_DB_PATH holds: alerts in total, per survey (ztf, lsst) and
per night, the writer schemas with their top-level fields, and the size on disk. --json prints it as one JSON object.

With SCIENCE_STORE=kafka, what the science log holds (asked with the admin user in secured mode),
per survey topic: its partitions and replication; offsets, the end minus the start of every
partition (the committed alerts, plus one transaction marker per partition per transaction, plus
any aborted records: an upper bound); bytes, the partitions' logs on their leaders (one copy);
and the times the oldest and the newest committed alerts were written. And the schemas topic.

  --json    print it as one JSON object
  --exact   SCIENCE_STORE=kafka: also count the committed alerts exactly, by reading the whole log
`;

export async function run(argv: string[]): Promise<number> {
  const args = commandArgs(argv, USAGE, { json: { type: 'boolean' }, exact: { type: 'boolean' } });
  if (args === undefined) return 0;
  const { values } = args;
  const config = loadConfig({ confFile: values.conf });
  if (config.enum('SCIENCE_STORE') === 'kafka') return logStatsCommand(config, values.json === true, values.exact === true);
  const stats = dbStats(config.require('SCIENCE_DB_PATH'));
  if (values.json === true) {
    process.stdout.write(JSON.stringify(stats, null, 2) + '\n');
    return 0;
  }
  const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
  const out = [`science database ${stats.path}`, `  ${stats.alerts} alerts, ${mb(stats.bytes)} on disk`];
  for (const [survey, n] of Object.entries(stats.surveys)) out.push(`  ${survey.padEnd(4)} ${String(n).padStart(9)} alerts`);
  if (stats.alerts > 0) out.push(`  ${(stats.bytes / stats.alerts / 1e3).toFixed(1)} KB per alert on disk`);
  out.push('nights:');
  for (const [night, n] of Object.entries(stats.nights)) {
    const surveys = Object.entries(n.surveys).map(([survey, count]) => `${survey} ${count}`).join(', ');
    out.push(`  ${night}  ${String(n.alerts).padStart(9)} alerts  ${mb(n.bytes).padStart(10)}  (${surveys || 'none'})`);
  }
  out.push('writer schemas:');
  for (const [id, s] of Object.entries(stats.schemas)) {
    out.push(`  ${id}  ${s.name}  ${s.alerts} alerts  ${s.fields.length} fields: ${s.fields.join(' ')}`);
  }
  process.stdout.write(out.join('\n') + '\n');
  return 0;
}

async function logStatsCommand(config: Config, json: boolean, exact: boolean): Promise<number> {
  const connection = kafkaClientOptions(config, 'admin');
  const prefix = config.get('SCIENCE_TOPIC_PREFIX') ?? '';
  const stats = await logStats(connection, prefix, { exact }).catch((err: unknown) => {
    throw isUnreachable(err) ? unreachableError(connection.bootstrapBrokers, err) : err;
  });
  process.stdout.write(json ? JSON.stringify(stats, null, 2) + '\n' : formatLogStats(stats, prefix));
  return 0;
}

function formatLogStats(stats: LogStats, prefix: string): string {
  const time = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString());
  const out = [`science log at ${stats.servers.join(',')} (SCIENCE_STORE=kafka, topics ${prefix}<survey>)`];
  const surveys = Object.entries(stats.surveys);
  if (surveys.length === 0) out.push('  no survey topic yet (the first ingest, simulate or stream2science creates it)');
  for (const [survey, s] of surveys) {
    out.push(`  ${survey.padEnd(4)} ${s.topic}: ${s.partitions} partitions x ${s.replication} replica${s.replication === 1 ? '' : 's'}`);
    out.push(`       ${s.offsets} offsets (committed alerts, transaction markers, aborted records)${s.records === undefined ? '' : `, ${s.records} committed alerts`}`);
    out.push(`       ${(s.bytes / 1e6).toFixed(1)} MB on the leaders; oldest ${time(s.oldest)}, newest ${time(s.newest)}`);
  }
  out.push(stats.schemas === null ? '  no schemas topic yet' : `  schemas ${stats.schemas.topic}: ${stats.schemas.offsets} offsets${stats.schemas.records === undefined ? '' : `, ${stats.schemas.records} records`}`);
  return out.join('\n') + '\n';
}
