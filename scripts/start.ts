// `npm start`: the main job end to end on the embedded defaults, as a new user would run it by hand.
// The cluster is left running.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../src/config/config.ts';

const root = packageRoot();
// The science database and the distribution service are not built yet (issues 3 and 4): for now
// the main job stops at a running cluster with its test topic.
const steps: Array<[string, string, string[]]> = [
  ['the Kafka cluster', 'fink_kafka', ['start']],
  ['the test topic', 'fink_kafka', ['--create-topic', 'distribution_test']],
  ['the topics', 'fink_kafka', ['--list-topics']],
  ['distribution_test', 'fink_kafka', ['--describe-topic', 'distribution_test']],
];

for (const [what, command, args] of steps) {
  process.stdout.write(`\n== ${what}: ${command} ${args.join(' ')}\n`);
  const result = spawnSync(process.execPath, [join(root, 'bin', `${command}.ts`), ...args], { stdio: 'inherit' });
  if (result.status !== 0) {
    process.stderr.write(`\nnpm start: step '${what}' failed (exit ${result.status ?? result.signal}).\n`);
    process.exit(result.status ?? 1);
  }
}
process.stdout.write(
  `\nDone. The cluster is still running (npx fink_kafka status); stop it with: npx fink_kafka stop\n`,
);
