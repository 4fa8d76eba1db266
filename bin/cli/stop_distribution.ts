// `fink stop distribution`
import { commandArgs } from '../../src/cli/args.ts';
import { stopProcess } from '../../src/cli/stop.ts';
import { loadConfig } from '../../src/config/config.ts';
import { serviceProcess } from './start_distribution.ts';

const USAGE = `usage: fink stop distribution [--conf FILE]

Stops the distribution service of DISTRIBUTION_ID running on this machine gracefully: the batch in
flight is committed (or, if Kafka is away, aborted), never half. Waits until it has exited.
`;

export async function run(argv: string[]): Promise<number> {
  const args = commandArgs(argv, USAGE, {});
  if (args === undefined) return 0;
  const config = loadConfig({ confFile: args.values.conf });
  const { id } = serviceProcess(config);
  await stopProcess('distribution service', `DISTRIBUTION_ID=${id}`, () => serviceProcess(config).pid);
  return 0;
}
