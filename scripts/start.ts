// `npm start`: the main job end to end on the embedded defaults, as a new user would run it by hand:
// the Kafka cluster, simulated and real alerts of both surveys (ZTF and Rubin) into the science database, the distribution, and the
// alerts read back from distribution_test. The cluster is left running.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { NODE_FLAGS } from '../src/cli/runtime.ts';
import { packageRoot } from '../src/config/config.ts';

const root = packageRoot();
const shared = resolve(root, '..', 'shared', 'data');
const realData = [join(shared, 'ztf'), join(shared, 'fink'), join(shared, 'lsst')].filter((d) => existsSync(d));

const steps: Array<[string, string, string[]]> = [
  ['the Kafka cluster', 'fink_kafka', ['start']],
  ['the test topic', 'fink_kafka', ['--create-topic', 'distribution_test']],
  // A fixed night and seed: running npm start again adds nothing twice.
  ['simulated ZTF alerts', 'fink', ['simulate', '--count', '2000', '--profile', 'ztf', '--seed', '1', '--night', '20261125']],
  ['simulated Rubin alerts', 'fink', ['simulate', '--survey', 'lsst', '--count', '300', '--profile', 'lsst', '--seed', '1', '--night', '20261125']],
  ...(realData.length > 0 ? [['real alerts', 'fink', ['ingest', ...realData]] as [string, string, string[]]] : []),
  ['the science database', 'fink', ['db', 'stats']],
  ['the distribution', 'fink', ['start', 'distribution', '--until-caught-up']],
  ['the alerts read back', 'fink', ['start', 'distribution_test', '--rows', '15']],
];
if (realData.length === 0) process.stdout.write(`(no real alerts at ${shared}: simulated ones only)\n`);

for (const [what, command, args] of steps) {
  process.stdout.write(`\n== ${what}: ${command} ${args.join(' ')}\n`);
  const result = spawnSync(process.execPath, [...NODE_FLAGS, join(root, 'bin', `${command}.ts`), ...args], { stdio: 'inherit' });
  if (result.status !== 0) {
    process.stderr.write(`\nnpm start: step '${what}' failed (exit ${result.status ?? result.signal}).\n`);
    process.exit(result.status ?? 1);
  }
}
process.stdout.write(
  `\nDone. The cluster is still running (npx fink_kafka status); stop it with: npx fink_kafka stop\n` +
    `Follow new alerts with: npx fink start distribution   (and in another terminal: npx fink simulate --count 100 --seed 2)\n`,
);
