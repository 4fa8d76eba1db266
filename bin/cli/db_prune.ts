// `fink db prune --older-than DAYS [--dry-run]` (the science log: its retention)
import { commandArgs, intFlag } from '../../src/cli/args.ts';
import { loadConfig, type Config } from '../../src/config/config.ts';
import { readCheckpoint } from '../../src/distribution/checkpoint.ts';
import { FinkError, UsageError } from '../../src/errors.ts';
import { kafkaClientOptions } from '../../src/kafka/client-options.ts';
import { isUnreachable, unreachableError, unreachableMessage } from '../../src/kafka/errors.ts';
import { logRetention, setLogRetention } from '../../src/sciencedb/log-retention.ts';
import { nightsOlderThan, removeNight } from '../../src/sciencedb/prune.ts';
import { openReader } from '../../src/sciencedb/reader.ts';

const USAGE = `usage: fink db prune --older-than DAYS [--dry-run] [--conf FILE]

Removes the nights of the science database (SCIENCE_DB_PATH) older than DAYS days, each whole,
except a night that the distribution service (DISTRIBUTION_ID) has not finished: its committed
checkpoint, read from Kafka, must cover every alert of that night's store. Kafka must answer.

  --older-than DAYS   nights whose date is more than DAYS days ago
  --dry-run           say what would be removed, remove nothing

With SCIENCE_STORE=kafka the science log is pruned by Kafka itself, by its topics' retention
(whole segments go once their newest alert is older than retention.ms). Without --older-than, the
retention of each survey topic is printed; --older-than DAYS sets the survey topics' retention.ms
to DAYS days (with the admin user in secured mode; topics created later take SCIENCE_RETENTION_MS).
A distribution that has not read an alert before it goes loses it: keep its lag well inside.
`;

export async function run(argv: string[]): Promise<number> {
  const args = commandArgs(argv, USAGE, { 'older-than': { type: 'string' }, 'dry-run': { type: 'boolean' } });
  if (args === undefined) return 0;
  const { values } = args;
  const days = intFlag('older-than', values['older-than'], 0);
  const config = loadConfig({ confFile: values.conf });
  if (config.enum('SCIENCE_STORE') === 'kafka') return pruneLog(config, days, values['dry-run'] === true);
  if (days === undefined) throw new UsageError('--older-than DAYS is required');
  const dir = config.require('SCIENCE_DB_PATH');
  const old = nightsOlderThan(dir, days);
  if (old.length === 0) {
    process.stdout.write(`no night of ${dir} is older than ${days} days\n`);
    return 0;
  }
  const connection = kafkaClientOptions(config);
  const id = config.require('DISTRIBUTION_ID');
  const { saved } = await readCheckpoint(connection, config.require('DISTRIBUTION_CHECKPOINT_TOPIC'), id).catch((err: unknown) => {
    if (isUnreachable(err)) throw new FinkError(`${unreachableMessage(connection.bootstrapBrokers, err)}; nothing was removed (the checkpoint says which nights are distributed)`);
    throw err;
  });
  const reader = openReader(dir);
  const head = reader.head();
  const stores = reader.identities();
  reader.close();
  let freed = 0;
  let kept = 0;
  for (const { night, bytes } of old) {
    const done = saved !== null && (saved.checkpoint[night] ?? 0) >= (head[night] ?? 0) && (stores[night] === undefined || saved.stores[night] === stores[night]);
    if (!done) {
      kept++;
      process.stdout.write(`kept    ${night}: the distribution (DISTRIBUTION_ID=${id}) has not sent all of it\n`);
      continue;
    }
    if (values['dry-run'] !== true) removeNight(dir, night);
    freed += bytes;
    process.stdout.write(`${values['dry-run'] === true ? 'would remove' : 'removed'} ${night}: ${(bytes / 1e6).toFixed(1)} MB\n`);
  }
  process.stdout.write(`${(freed / 1e6).toFixed(1)} MB ${values['dry-run'] === true ? 'to free' : 'freed'}; ${kept} night(s) kept\n`);
  return 0;
}

const DAY_MS = 86_400_000;

/** The science log: its retention printed, or set to `days` days. */
async function pruneLog(config: Config, days: number | undefined, dryRun: boolean): Promise<number> {
  const connection = kafkaClientOptions(config, 'admin');
  const prefix = config.get('SCIENCE_TOPIC_PREFIX') ?? '';
  const unreachable = (err: unknown) => {
    throw isUnreachable(err) ? unreachableError(connection.bootstrapBrokers, err) : err;
  };
  const before = await logRetention(connection, prefix).catch(unreachable);
  const dayText = (ms: number) => (ms < 0 ? 'for ever' : `${+(ms / DAY_MS).toFixed(3)} days`);
  if (before.length === 0) {
    process.stdout.write(`the science log (topics ${prefix}<survey> at ${connection.bootstrapBrokers.join(',')}) has no survey topic yet: nothing to prune\n`);
    return 0;
  }
  if (days === undefined) {
    for (const r of before) process.stdout.write(`${r.topic}: retention.ms ${r.ms} (${dayText(r.ms)}), retention.bytes ${r.bytes < 0 ? 'no limit' : `${r.bytes} per partition`}\n`);
    process.stdout.write('Kafka deletes what is older: --older-than DAYS sets it\n');
    return 0;
  }
  const ms = days * DAY_MS;
  if (dryRun) {
    for (const r of before) process.stdout.write(`would set ${r.topic} retention.ms ${r.ms} -> ${ms} (${dayText(ms)})\n`);
    return 0;
  }
  const set = await setLogRetention(connection, prefix, ms).catch(unreachable);
  for (const topic of set) process.stdout.write(`set ${topic} retention.ms ${before.find((r) => r.topic === topic)?.ms ?? '?'} -> ${ms} (${dayText(ms)}): Kafka deletes the older segments at its next retention check\n`);
  return 0;
}
