// `npm start`: the main job end to end on the embedded defaults, as a new user would run it by hand:
// the managed Kafka, simulated and real alerts into the science database, the distribution
// service until it has caught up, and the topic read back. The cluster is left running.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../src/config/config.ts';

const root = packageRoot();
const realData = ['../shared/data/ztf', '../shared/data/fink'].map((p) => join(root, p)).filter((p) => existsSync(p));
const count = process.env.FINK_START_COUNT ?? '2000';

const steps: Array<[string, string, string[]]> = [
  ['the Kafka cluster', 'fink_kafka', ['start']],
  ['the test topic', 'fink_kafka', ['--create-topic', 'distribution_test']],
  [`${count} simulated ZTF alerts into the science database`, 'fink', ['simulate', '--count', count, '--profile', 'ztf']],
  ...(realData.length > 0 ? [['the real alerts of ../shared/data', 'fink', ['ingest', ...realData]] as [string, string, string[]]] : []),
  ['distribution, until it has caught up', 'fink', ['start', 'distribution', '--until-caught-up']],
  ['distribution_test: the topic read back', 'fink', ['start', 'distribution_test', '--timeout', '60']],
];

for (const [what, command, args] of steps) {
  process.stdout.write(`\n== ${what}: ${command} ${args.map((a) => (a.startsWith('/') ? a.replace(root + '/', '') : a)).join(' ')}\n`);
  const result = spawnSync(process.execPath, [join(root, 'bin', `${command}.ts`), ...args], { stdio: 'inherit' });
  if (result.status !== 0) {
    process.stderr.write(`\nnpm start: step '${what}' failed (exit ${result.status ?? result.signal}).\n`);
    process.exit(result.status ?? 1);
  }
}
process.stdout.write(
  `\nDone. The cluster is still running (npx fink_kafka status); stop it with: npx fink_kafka stop\n`,
);
