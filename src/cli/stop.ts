// Stopping a long-running command of this machine by its pid file: SIGTERM (it finishes what it has
// in flight), then waiting until it has exited.
import { setTimeout as sleep } from 'node:timers/promises';
import { FinkError } from '../errors.ts';
import { loadConfig } from '../config/config.ts';
import { serviceProcess, type ServiceKind } from '../service/services.ts';
import { commandArgs } from './args.ts';

/** `fink stop distribution`, `fink stop stream2science`: the configured instance of `kind`, stopped. */
export async function stopServiceCommand(argv: string[], usage: string, kind: ServiceKind): Promise<number> {
  const args = commandArgs(argv, usage, {});
  if (args === undefined) return 0;
  const config = loadConfig({ confFile: args.values.conf });
  const { identity } = serviceProcess(config, kind);
  await stopProcess(kind.name, identity, () => serviceProcess(config, kind).pid);
  return 0;
}

/**
 * Stops the process `running()` names (undefined: none runs); `what` names it in messages, and
 * `identity` (such as `DISTRIBUTION_ID=x`) says which one was looked for.
 */
async function stopProcess(what: string, identity: string, running: () => number | undefined, timeoutMs = 60_000): Promise<void> {
  const pid = running();
  if (pid === undefined) {
    process.stdout.write(`no ${what} with ${identity} is running\n`);
    return;
  }
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (running() === pid) {
    if (Date.now() > deadline) throw new FinkError(`the ${what} (pid ${pid}) has not stopped after ${timeoutMs / 1000} s`);
    await sleep(100);
  }
  process.stdout.write(`stopped the ${what} (pid ${pid})\n`);
}
