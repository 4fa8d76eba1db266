// Running the project's commands as a user would, in child processes, with configuration overrides.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../src/config/config.ts';

export function testEnv(overrides: Record<string, string>): NodeJS.ProcessEnv {
  return { ...process.env, FINK_CONF: join(packageRoot(), 'conf', 'fink.conf'), ...overrides };
}

/** Runs a command of the project (`fink` or `fink_kafka`) as a user would, with configuration overrides. */
export function runCli(command: 'fink' | 'fink_kafka', args: string[], overrides: Record<string, string>, input?: string) {
  return spawnSync(process.execPath, [join(packageRoot(), 'bin', `${command}.ts`), ...args], {
    env: testEnv(overrides),
    encoding: 'utf8',
    timeout: 180_000,
    ...(input === undefined ? {} : { input }),
  });
}
