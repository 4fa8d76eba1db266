// `fink db prune --older-than DAYS [--dry-run]`
import { commandArgs, intFlag } from '../../src/cli/args.ts';
import { loadConfig } from '../../src/config/config.ts';
import { readCheckpoint } from '../../src/distribution/checkpoint.ts';
import { FinkError, UsageError } from '../../src/errors.ts';
import { kafkaClientOptions } from '../../src/kafka/client-options.ts';
import { isUnreachable, unreachableMessage } from '../../src/kafka/errors.ts';
import { nightsOlderThan, removeNight } from '../../src/sciencedb/prune.ts';
import { openReader } from '../../src/sciencedb/reader.ts';

const USAGE = `usage: fink db prune --older-than DAYS [--dry-run] [--conf FILE]

Removes the nights of the science database (SCIENCE_DB_PATH) older than DAYS days, each whole,
except a night that the distribution service (DISTRIBUTION_ID) has not finished: its committed
checkpoint, read from Kafka, must cover every alert of that night's store. Kafka must answer.

  --older-than DAYS   nights whose date is more than DAYS days ago
  --dry-run           say what would be removed, remove nothing
`;

export async function run(argv: string[]): Promise<number> {
  const args = commandArgs(argv, USAGE, { 'older-than': { type: 'string' }, 'dry-run': { type: 'boolean' } });
  if (args === undefined) return 0;
  const { values } = args;
  const days = intFlag('older-than', values['older-than'], 0);
  if (days === undefined) throw new UsageError('--older-than DAYS is required');
  const config = loadConfig({ confFile: values.conf });
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
