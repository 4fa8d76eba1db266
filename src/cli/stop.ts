// Stopping a long-running command of this machine by its pid file: SIGTERM (it finishes what it has
// in flight), then waiting until it has exited.
import { setTimeout as sleep } from 'node:timers/promises';
import { FinkError } from '../errors.ts';

/**
 * Stops the process `running()` names (undefined: none runs); `what` names it in messages, and
 * `identity` (such as `DISTRIBUTION_ID=x`) says which one was looked for.
 */
export async function stopProcess(what: string, identity: string, running: () => number | undefined, timeoutMs = 60_000): Promise<void> {
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
