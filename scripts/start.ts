// `npm start`: the main job end to end on the embedded defaults, as a new user would run it by hand:
// the Kafka cluster, simulated and real alerts of both surveys (ZTF and Rubin) into the science database, the distribution, and the
// alerts read back from distribution_test. The cluster is left running.
// `npm start -- --live`: the live chain instead: the simulator cluster and its schema registry, a
// ZTF night and a Rubin night replayed there as the surveys send them, stream2science into the
// science database, the distribution, and the alerts read back.
// `npm start -- --scale`: past one machine, shown on one (scripts/start-scale.ts): three brokers, the
// science log, two distribution instances in a group, one SIGKILLed halfway, every alert read back once.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { NODE_FLAGS } from '../src/cli/runtime.ts';
import { packageRoot } from '../src/config/config.ts';

const root = packageRoot();
if (process.argv.includes('--scale')) {
  const { runScale } = await import('./start-scale.ts');
  process.exit(await runScale(root));
}
const shared = resolve(root, '..', 'shared', 'data');
const realData = [join(shared, 'ztf'), join(shared, 'fink'), join(shared, 'lsst')].filter((d) => existsSync(d));

const live = process.argv.includes('--live');
const ztfNight = join(shared, 'ztf');
// stream2science reads the simulator cluster, each topic in its survey's format.
const liveEnv = {
  UPSTREAM_SERVERS: '${SIMULATOR_SERVERS}',
  UPSTREAM_TOPICS: 'ztf_.*,lsst-alerts-v.*',
  UPSTREAM_FORMAT: 'ztf_.*=ztf,lsst-alerts-v.*=lsst',
  UPSTREAM_SCHEMA_REGISTRY: '${SIMULATOR_REGISTRY_URL}',
};
const liveSteps: Array<[string, string, string[]]> = [
  ['the Kafka cluster', 'fink_kafka', ['start']],
  ['the simulator cluster and its schema registry', 'fink_kafka', ['--cluster', 'simulator', 'start']],
  existsSync(ztfNight)
    ? ['a ZTF night replayed on the simulator cluster', 'fink', ['start', 'simulator', '--survey', 'ztf', '--night', ztfNight, '--visit-interval', '1']]
    : ['a simulated ZTF night replayed on the simulator cluster', 'fink', ['start', 'simulator', '--survey', 'ztf', '--simulate', '300', '--seed', '1', '--visit-interval', '1']],
  // Another seed than the plain `npm start`'s: these are new alerts even after it.
  ['a Rubin night replayed on the simulator cluster', 'fink', ['start', 'simulator', '--survey', 'lsst', '--simulate', '300', '--seed', '2', '--visit-interval', '1']],
  ['stream2science: the surveys\' stream into the science database', 'fink', ['start', 'stream2science', '--until-caught-up']],
  ['the distribution', 'fink', ['start', 'distribution', '--until-caught-up']],
  ['the alerts read back', 'fink', ['start', 'distribution_test', '--rows', '15']],
];

const fileSteps: Array<[string, string, string[]]> = [
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

const steps = live ? liveSteps : fileSteps;
for (const [what, command, args] of steps) {
  process.stdout.write(`\n== ${what}: ${command} ${args.join(' ')}\n`);
  const env = live ? { ...liveEnv, ...process.env } : process.env;
  const result = spawnSync(process.execPath, [...NODE_FLAGS, join(root, 'bin', `${command}.ts`), ...args], { stdio: 'inherit', env });
  if (result.status !== 0) {
    process.stderr.write(`\nnpm start: step '${what}' failed (exit ${result.status ?? result.signal}).\n`);
    process.exit(result.status ?? 1);
  }
}
process.stdout.write(
  live
    ? `\nDone. Both clusters are still running (npx fink_kafka status); stop them with: npx fink_kafka stop; npx fink_kafka --cluster simulator stop\n` +
        `Follow the live chain with: npx fink start stream2science, npx fink start distribution and npx fink start simulator --survey lsst --simulate 10000 (each in its own terminal, with the UPSTREAM_* settings of scripts/start.ts)\n`
    : `\nDone. The cluster is still running (npx fink_kafka status); stop it with: npx fink_kafka stop\n` +
    `Follow new alerts with: npx fink start distribution   (and in another terminal: npx fink simulate --count 100 --seed 2)\n`,
);
