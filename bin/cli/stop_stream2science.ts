// `fink stop stream2science`
import { commandArgs } from '../../src/cli/args.ts';
import { stopProcess } from '../../src/cli/stop.ts';
import { loadConfig } from '../../src/config/config.ts';
import { stream2scienceProcess } from './start_stream2science.ts';

const USAGE = `usage: fink stop stream2science [--conf FILE]

Stops the stream2science of UPSTREAM_GROUP_ID running on this machine gracefully: the batch in
flight is committed with its positions, never half. Waits until it has exited.
`;

export async function run(argv: string[]): Promise<number> {
  const args = commandArgs(argv, USAGE, {});
  if (args === undefined) return 0;
  const config = loadConfig({ confFile: args.values.conf });
  const { group } = stream2scienceProcess(config);
  await stopProcess('stream2science', `UPSTREAM_GROUP_ID=${group}`, () => stream2scienceProcess(config).pid);
  return 0;
}
