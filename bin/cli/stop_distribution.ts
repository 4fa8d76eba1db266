// `fink stop distribution`
import { setTimeout as sleep } from 'node:timers/promises';
import { commandArgs } from '../../src/cli/args.ts';
import { FinkError } from '../../src/errors.ts';
import { loadConfig } from '../../src/config/config.ts';
import { serviceProcess } from './start_distribution.ts';

const USAGE = `usage: fink stop distribution [--conf FILE]

Stops the distribution service of DISTRIBUTION_ID running on this machine gracefully: the batch in
flight is committed (or, if Kafka is away, aborted), never half. Waits until it has exited.
`;

export async function run(argv: string[]): Promise<number> {
  const args = commandArgs(argv, USAGE, {});
  if (args === undefined) return 0;
  const { values } = args;
  const config = loadConfig({ confFile: values.conf });
  const { id, pid } = serviceProcess(config);
  if (pid === undefined) {
    process.stdout.write(`no distribution service with DISTRIBUTION_ID=${id} is running\n`);
    return 0;
  }
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 60_000;
  while (serviceProcess(config).pid === pid) {
    if (Date.now() > deadline) throw new FinkError(`the distribution service (pid ${pid}) has not stopped after 60 s`);
    await sleep(100);
  }
  process.stdout.write(`stopped the distribution service (pid ${pid})\n`);
  return 0;
}
