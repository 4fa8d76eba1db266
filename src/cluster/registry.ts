// The managed schema registry of a cluster: Apicurio Registry with in-memory storage, whose
// Confluent-compatible API (/apis/ccompat/v7) holds the schemas of the Rubin stream (the simulator
// cluster's) or of the distribution's topics (the redistribution cluster's). Built once by Maven
// from registry/pom.xml into REGISTRY_CACHE_DIR (everything after runs offline), run detached on
// its host and port with its files under the cluster's state folder, registry/ (RegistrySettings,
// resolved in settings.ts; in secured mode behind a gate, managed-registry.ts).
// In-memory storage: a restart forgets every schema, as a fresh survey stream would register anew.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FinkError } from '../errors.ts';
import { privateFolder } from '../files.ts';
import { livePid } from '../pidfile.ts';
import { packageRoot } from '../config/config.ts';
import { portIsFree, startJava, stopProcesses } from './processes.ts';
import { requireTool } from './provision.ts';
import type { RegistrySettings } from './settings.ts';

const MARKER = '.complete';
/** The path of the Confluent-compatible API under the registry's root. */
export const CCOMPAT_PATH = '/apis/ccompat/v7';
/** Quarkus's legacy-jar packaging (Apicurio's choice): the runner jar and its lib/ folder beside it. */
const RUNNER = 'fink-distribution-registry-1-runner.jar';

/** The runnable registry, building it first when needed (a few minutes and ~130 MB, once). */
export function ensureRegistryBuild(registry: RegistrySettings, log: (line: string) => void = () => {}): string {
  const cache = registry.cacheDir;
  const runner = join(cache, RUNNER);
  if (existsSync(join(cache, MARKER))) return runner;
  requireTool('java', 'to run the schema registry', '');
  requireTool('mvn', 'to build the schema registry once', '');
  const { version } = registry;
  log(`building Apicurio Registry ${version} with Maven into ${cache} (once; a few minutes)...`);
  // A half-done build is redone from scratch: the marker is written only after a full success.
  rmSync(cache, { recursive: true, force: true });
  mkdirSync(cache, { recursive: true });
  const result = spawnSync(
    'mvn',
    ['-q', '-B', '-f', join(packageRoot(), 'registry', 'pom.xml'), 'package', '-DskipTests', `-Dregistry.build.dir=${cache}`, `-Dapicurio.version=${version}`],
    { encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  if (result.status !== 0 || !existsSync(runner)) {
    throw new FinkError(`Maven could not build the schema registry (exit ${result.status}):\n${(result.stdout + result.stderr).trim().slice(-2000)}`, { code: 'FINK_KAFKA' });
  }
  // The runner jar holds the classes and names lib/ on its class path: the rest is build residue.
  for (const residue of ['classes', 'maven-archiver', 'dependency-maven-plugin-markers', 'fink-distribution-registry-1.jar']) rmSync(join(cache, residue), { recursive: true, force: true });
  writeFileSync(join(cache, MARKER), new Date().toISOString() + '\n');
  log(`schema registry ready in ${cache}`);
  return runner;
}

export interface RegistryLayout {
  dir: string;
  port: number;
  /** The registry's root URL; its Confluent-compatible API is under CCOMPAT_PATH. */
  url: string;
  pidFile: string;
  logFile: string;
}

/** The URL of `host:port` as a client on this machine reaches it (a wildcard address through loopback). */
export function httpUrl(host: string, port: number): string {
  const reached = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${reached.includes(':') ? `[${reached}]` : reached}:${port}`;
}

export function registryLayout(registry: RegistrySettings): RegistryLayout {
  const { dir, port } = registry;
  return { dir, port, url: httpUrl(registry.host, port), pidFile: join(dir, 'registry.pid'), logFile: join(dir, 'registry.log') };
}

/** A marker on the registry's command line naming its state folder: a pid file is only ever this registry's. */
const marker = (layout: RegistryLayout) => `-Dfink.registry.dir=${layout.dir}`;

/** The pid of our running registry, or undefined (a pid file whose process is gone or is another is stale). */
export function registryPid(layout: RegistryLayout): number | undefined {
  return livePid(layout.pidFile, marker(layout));
}

/** Whether the registry's Confluent-compatible API answers, within `timeoutMs` for one request. */
async function answers(layout: RegistryLayout, timeoutMs: number): Promise<boolean> {
  try {
    const response = await fetch(`${layout.url}${CCOMPAT_PATH}/subjects`, { signal: AbortSignal.timeout(timeoutMs) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

/** Waits until the registry answers, or throws at the deadline (or as soon as its process has exited). */
export async function waitUntilRegistryAnswers(layout: RegistryLayout, timeoutMs: number, alive: () => boolean = () => true): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive()) throw new FinkError('the schema registry exited during start-up');
    if (await answers(layout, 2000)) return;
    await sleep(250);
  }
  throw new FinkError(`the schema registry did not answer at ${layout.url}${CCOMPAT_PATH} within ${timeoutMs / 1000} s`);
}

export interface RegistryStart {
  alreadyRunning: boolean;
  pid: number;
  url: string;
}

export async function startRegistry(registry: RegistrySettings, log: (line: string) => void): Promise<RegistryStart> {
  const layout = registryLayout(registry);
  const running = registryPid(layout);
  if (running !== undefined) return { alreadyRunning: true, pid: running, url: layout.url };
  const runner = ensureRegistryBuild(registry, log);
  if (existsSync(layout.pidFile)) {
    log(`removing a stale pid file (${layout.pidFile}): its process is gone`);
    rmSync(layout.pidFile);
  }
  if (!(await portIsFree(registry.host, layout.port))) {
    throw new FinkError(`port ${layout.port} on ${registry.host} is taken by another program; stop it or choose another ${registry.keys.port}`);
  }
  privateFolder(layout.dir);
  const { pid, exited } = startJava([
    ...registry.heapOpts, marker(layout),
    // Quarkus listens on every interface by default; this one listens where it is told (loopback unless the operator says otherwise).
    `-Dquarkus.http.host=${registry.host}`, `-Dquarkus.http.port=${layout.port}`,
    `-Dvertx.cacheDirBase=${join(layout.dir, 'vertx-cache')}`,
    '-jar', runner,
  ], { output: layout.logFile, pidFile: layout.pidFile, cwd: layout.dir });
  try {
    await waitUntilRegistryAnswers(layout, 120_000, () => !exited());
  } catch (err) {
    await stopProcesses([pid], 10_000);
    rmSync(layout.pidFile, { force: true });
    const tail = readFileSync(layout.logFile, 'utf8').split('\n').slice(-15).join('\n');
    throw new FinkError(`${(err as Error).message}; the end of ${layout.logFile}:\n${tail}`);
  }
  return { alreadyRunning: false, pid, url: layout.url };
}

/** SIGTERM to the registry, SIGKILL after `graceMs`; the pid stopped, if it was running. */
export async function stopRegistry(registry: RegistrySettings, graceMs = 30_000): Promise<number | undefined> {
  const layout = registryLayout(registry);
  const pid = registryPid(layout);
  if (pid !== undefined) await stopProcesses([pid], graceMs);
  rmSync(layout.pidFile, { force: true });
  return pid;
}
