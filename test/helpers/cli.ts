// Running the project's commands as a user would, in child processes, with configuration overrides.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { NODE_FLAGS } from '../../src/cli/runtime.ts';
import { packageRoot } from '../../src/config/config.ts';
import { waitFor } from './wait.ts';

/**
 * What a test passes on from the shell: what the tools need to run (Java, Maven, Python, the
 * proxies of the package registries), never the project's own settings. A KAFKA_HOME or a
 * DISTRIBUTION_TOPICS in the developer's shell would otherwise change what is tested.
 */
const INHERITED = [
  'PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'TERM', 'TMPDIR', 'TZ', 'LANG', 'LC_ALL', 'LC_CTYPE',
  'JAVA_HOME', 'MAVEN_OPTS', 'M2_HOME', 'PYENV_ROOT', 'PYENV_VERSION', 'PIP_INDEX_URL', 'SSL_CERT_FILE',
  'http_proxy', 'https_proxy', 'no_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'CI',
];

/** The environment of a test's configuration and child processes: the allow-list, the overrides. */
export function testEnv(overrides: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of INHERITED) if (process.env[name] !== undefined) env[name] = process.env[name];
  // A broker that starts under a loaded machine (CI with a busy core) can take minutes to answer.
  return { ...env, FINK_CONF: join(packageRoot(), 'conf', 'fink.conf'), KAFKA_START_TIMEOUT_S: '600', ...overrides };
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

/** A long-running `fink` command as a child process, for tests that kill or stop it. */
export interface FinkProcess {
  child: ChildProcess;
  /** Its stdout and stderr so far. */
  output: () => string;
  exited: Promise<number | null>;
  /** Resolves once its output matches `pattern` (fails at a generous deadline, showing the output). */
  waitForOutput: (pattern: RegExp, what: string) => Promise<void>;
}

/** `fink ARGS...` as a child process, with configuration overrides. */
export function spawnFink(args: string[], env: Record<string, string>): FinkProcess {
  const child = spawn(process.execPath, [...NODE_FLAGS, join(packageRoot(), 'bin', 'fink.ts'), ...args], { env: testEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const waitForOutput = async (pattern: RegExp, what: string) => {
    await waitFor(what, () => pattern.test(output), { detail: () => output });
  };
  return { child, output: () => output, exited, waitForOutput };
}

/** `fink ARGS...` run to its end as the service runs (its Node flags), without blocking the event loop. */
export async function runFink(args: string[], env: Record<string, string>): Promise<{ status: number | null; output: string }> {
  const child = spawnFink(args, env);
  const status = await child.exited;
  return { status, output: child.output() };
}
