// A cluster's managed schema registry as fink_kafka starts, shows and stops it: Apicurio alone on
// its public address, or in secured mode Apicurio on a private loopback port behind the gate
// (registry-gate.ts), a detached Node process on the public address with its files beside
// Apicurio's (gate.json: what it serves, no secret; gate.pid, gate.log).
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer, isIP } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { FinkError } from '../errors.ts';
import { replaceFile } from '../files.ts';
import { livePid, writePid } from '../pidfile.ts';
import { portIsFree, stopProcesses } from './processes.ts';
import { CCOMPAT_PATH, httpUrl, registryLayout, registryPid, startRegistry, stopRegistry } from './registry.ts';
import type { GateSpec } from './registry-gate.ts';
import type { RegistrySettings } from './settings.ts';

/** The gate's entry point, beside this module (.ts from the sources, .js once built). */
const GATE_MAIN = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? './registry-gate-main.ts' : './registry-gate-main.js', import.meta.url));

interface GateLayout {
  specFile: string;
  pidFile: string;
  logFile: string;
}

function gateLayout(registry: RegistrySettings): GateLayout {
  return { specFile: join(registry.dir, 'gate.json'), pidFile: join(registry.dir, 'gate.pid'), logFile: join(registry.dir, 'gate.log') };
}

/** The pid of the running gate, or undefined; its command line names its spec file. */
function gatePid(registry: RegistrySettings): number | undefined {
  const layout = gateLayout(registry);
  return livePid(layout.pidFile, layout.specFile);
}

export interface ManagedRegistry {
  /** The registry's root URL where its clients reach it (the gate's in secured mode). */
  url: string;
  /** Apicurio's pid, if it runs. */
  pid: number | undefined;
  /** The gate's pid, if it runs. */
  gatePid: number | undefined;
}

export function managedRegistry(registry: RegistrySettings): ManagedRegistry {
  return { url: httpUrl(registry.host, registry.port), pid: registryPid(registryLayout(registry)), gatePid: registry.gate === undefined ? undefined : gatePid(registry) };
}

/** Whether it serves: Apicurio runs, and the gate too where there is one. */
export const serving = (registry: RegistrySettings, state: ManagedRegistry): boolean => state.pid !== undefined && (registry.gate === undefined || state.gatePid !== undefined);

/** A free port on 127.0.0.1, for Apicurio behind the gate. */
async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Apicurio's private port, from the spec of a gate started before, or undefined. */
function formerUpstreamPort(layout: GateLayout): number | undefined {
  try {
    return (JSON.parse(readFileSync(layout.specFile, 'utf8')) as GateSpec).upstreamPort;
  } catch {
    return undefined;
  }
}

/** Starts the gate in front of Apicurio on 127.0.0.1:`upstreamPort`, and waits until it answers. */
async function startGate(registry: RegistrySettings, upstreamPort: number): Promise<number> {
  const layout = gateLayout(registry);
  const gate = registry.gate!;
  const spec: GateSpec = { ...gate, host: registry.host, port: registry.port, upstreamPort };
  replaceFile(layout.specFile, JSON.stringify(spec, null, 2) + '\n', 0o600);
  const out = openSync(layout.logFile, 'a', 0o600);
  // Not fink_kafka's environment, which may hold the cluster's passwords (KAFKA_ADMIN_PASSWORD...):
  // the gate needs none of it, and keeps no secret.
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', ...(process.env.HOME === undefined ? {} : { HOME: process.env.HOME }) };
  const child = spawn(process.execPath, [GATE_MAIN, layout.specFile], { cwd: registry.dir, env, detached: true, stdio: ['ignore', out, out] });
  closeSync(out);
  if (child.pid === undefined) throw new FinkError('could not start the schema registry gate');
  let exited = false;
  child.once('exit', () => (exited = true));
  child.unref();
  writePid(layout.pidFile, child.pid);
  const url = `${httpUrl(registry.host, registry.port)}${CCOMPAT_PATH}/subjects`;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && !exited) {
    // Any answer is the gate's: 200, or 401 when reads need credentials.
    const answered = await fetch(url, { signal: AbortSignal.timeout(2000) }).then((r) => r.arrayBuffer().then(() => true), () => false);
    if (answered) return child.pid;
    await sleep(200);
  }
  await stopProcesses([child.pid], 5000);
  rmSync(layout.pidFile, { force: true });
  const tail = existsSync(layout.logFile) ? readFileSync(layout.logFile, 'utf8').split('\n').slice(-10).join('\n') : '';
  throw new FinkError(`the schema registry gate did not answer at ${url}; the end of ${layout.logFile}:\n${tail}`);
}

/** Whether `host` is a loopback address: what leaves the machine does not go through it. */
const loopback = (host: string) => host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));

/**
 * Refuses, before anything starts, a secured cluster's registry on an address other hosts reach:
 * the gate speaks plain HTTP, and basic auth would carry the cluster's passwords over the network
 * in clear (a TLS reverse proxy on this machine, in front of the loopback address, is the way).
 */
export function checkRegistryStart(registry: RegistrySettings): void {
  if (registry.gate === undefined || loopback(registry.host)) return;
  throw new FinkError(
    `${registry.keys.host ?? 'the registry host'}=${registry.host}: in secured mode the schema registry's gate speaks plain HTTP, and its clients' passwords (HTTP basic auth) would cross the network in clear; keep it on a loopback address (127.0.0.1) and put a TLS reverse proxy in front of it for other hosts`,
    { exitCode: 2, code: 'FINK_KAFKA' },
  );
}

/**
 * Starts the registry (and its gate in secured mode) unless it serves already. Apicurio keeps its
 * schemas in memory: one that still runs is kept, and a gate that stopped is started again in front of it.
 */
export async function startManagedRegistry(registry: RegistrySettings, log: (line: string) => void): Promise<ManagedRegistry & { alreadyRunning: boolean }> {
  checkRegistryStart(registry);
  const state = managedRegistry(registry);
  if (serving(registry, state)) return { ...state, alreadyRunning: true };
  if (registry.gate === undefined) {
    const started = await startRegistry(registry, log);
    return { ...state, pid: started.pid, alreadyRunning: false };
  }
  if (!(await portIsFree(registry.host, registry.port))) {
    throw new FinkError(`port ${registry.port} on ${registry.host} is taken by another program; stop it or choose another ${registry.keys.port}`);
  }
  let upstreamPort = state.pid === undefined ? undefined : formerUpstreamPort(gateLayout(registry));
  let pid = upstreamPort === undefined ? undefined : state.pid;
  if (upstreamPort === undefined) {
    await stopRegistry(registry);
    upstreamPort = await freeLoopbackPort();
    pid = (await startRegistry({ ...registry, host: '127.0.0.1', port: upstreamPort }, log)).pid;
  }
  try {
    return { url: state.url, pid, gatePid: await startGate(registry, upstreamPort), alreadyRunning: false };
  } catch (err) {
    await stopRegistry(registry);
    throw err;
  }
}

/** Stops the gate, then Apicurio; the pids stopped. */
export async function stopManagedRegistry(registry: RegistrySettings): Promise<number[]> {
  const stopped: number[] = [];
  const layout = gateLayout(registry);
  const gate = gatePid(registry);
  if (gate !== undefined) {
    await stopProcesses([gate], 10_000);
    stopped.push(gate);
  }
  rmSync(layout.pidFile, { force: true });
  const pid = await stopRegistry(registry);
  if (pid !== undefined) stopped.push(pid);
  return stopped;
}
