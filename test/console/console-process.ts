// `fink start console` as a child process, and a headless Chromium (Debian's, never a downloaded
// one) driven by puppeteer-core: what the console's tests and the benchmark with a page open use.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { Browser } from 'puppeteer-core';
import { NODE_FLAGS } from '../../src/cli/runtime.ts';
import { packageRoot } from '../../src/config/config.ts';
import { testEnv } from '../helpers/cli.ts';
import { prerequisiteMissing } from '../helpers/prerequisites.ts';
import { tempDir } from '../helpers/temp.ts';
import { waitFor } from '../helpers/wait.ts';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface ConsoleProcess {
  url: string;
  child: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
}

export async function startConsole(env: Record<string, string>): Promise<ConsoleProcess> {
  const child = spawn(process.execPath, [...NODE_FLAGS, join(packageRoot(), 'bin', 'fink.ts'), 'start', 'console', '--port', '0'], { env: testEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const url = await waitFor('the console to listen', () => /fink console at (http:\/\/\S+)/.exec(output)?.[1] ?? (child.exitCode !== null ? `exited: ${output}` : undefined), { detail: () => output });
  if (url.startsWith('exited')) throw new Error(`the console stopped: ${output}`);
  return {
    url,
    child,
    output: () => output,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Debian's Chromium, headless; undefined (a visible skip, a failure under CI=true) where it is not installed. */
export async function launchChromium(t: TestContext | undefined): Promise<Browser | undefined> {
  if (!existsSync(CHROMIUM)) {
    if (t !== undefined) prerequisiteMissing(t, `Chromium not found at ${CHROMIUM}: 'apt-get install -y chromium' (or set CHROMIUM_PATH)`);
    return undefined;
  }
  const { launch } = await import('puppeteer-core');
  return launch({
    executablePath: CHROMIUM,
    headless: true,
    userDataDir: tempDir('chromium'),
    // The sandbox needs user namespaces, which containers (and root) often lack.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
    defaultViewport: { width: 1640, height: 1000 },
  });
}
