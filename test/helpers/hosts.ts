// Hosts of a test's own: Linux network namespaces joined by a bridge, each with one veth link and an
// address in a private /24 that only these links carry (the bridge has none, so nothing outside the
// machine, nor the machine itself, is ever addressed). Commands and long-running children run in a
// host (`ip netns exec`); a host is cut off the network and reconnected by its link on the bridge
// side; everything is removed in the test's after-hook, and what a killed earlier run left behind
// (its names carry its pid) is removed at the next start. Needs root and iproute2.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { NODE_FLAGS } from '../../src/cli/runtime.ts';
import { packageRoot } from '../../src/config/config.ts';
import { testEnv } from './cli.ts';
import { prerequisiteMissing } from './prerequisites.ts';
import { waitFor } from './wait.ts';

/** Every name this helper gives starts so, then the pid of the test process that made it. */
const PREFIX = 'fkh';
/** Interface names are at most 15 bytes (IFNAMSIZ - 1). */
const IFNAMSIZ = 15;

export interface Host {
  /** Its place among the hosts, from 0. */
  index: number;
  /** The network namespace. */
  netns: string;
  /** Its address on the bridge (without the /24). */
  address: string;
  /** Its link's end on the bridge: down cuts the host off, up reconnects it. */
  veth: string;
}

/** A long-running child in a host. */
export interface HostProcess {
  child: ChildProcess;
  /** Its stdout and stderr so far. */
  output: () => string;
  /** Its exit code (null after a signal). */
  exited: Promise<number | null>;
  /** Resolves once its output matches `pattern` (fails at a generous deadline, showing the output). */
  waitForOutput: (pattern: RegExp, what: string, timeoutMs?: number) => Promise<void>;
  /** Sends `signal` (SIGKILL by default: a crash) and resolves with its exit once it is gone. */
  kill: (signal?: NodeJS.Signals) => Promise<number | null>;
}

export interface TestHosts {
  hosts: Host[];
  bridge: string;
  /** The /24 of the hosts, e.g. 10.42.7.0/24. */
  subnet: string;
  /** Every name that this set made: namespaces, bridge, bridge-side veths (what removal must leave none of). */
  names: () => string[];
  /** Runs a command in a host to its end. */
  run: (host: Host, command: string, args: string[], options?: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }) => SpawnSyncReturns<string>;
  /** The same, its output as bytes (a reader of binary records). */
  runBytes: (host: Host, command: string, args: string[], options?: { timeoutMs?: number }) => SpawnSyncReturns<Buffer>;
  /** Starts a long-running command in a host. */
  spawn: (host: Host, command: string, args: string[], env?: NodeJS.ProcessEnv) => HostProcess;
  /** `fink` or `fink_kafka` ARGS in a host, as a user would run it there (Node 24, the service's flags), with configuration overrides. */
  spawnCli: (host: Host, command: 'fink' | 'fink_kafka', args: string[], overrides: Record<string, string>) => HostProcess;
  /** The same, run to its end. */
  runCli: (host: Host, command: 'fink' | 'fink_kafka', args: string[], overrides: Record<string, string>) => Promise<{ status: number | null; output: string }>;
  /** Cuts a host off the network: its link on the bridge goes down (its address stays). */
  cut: (host: Host) => void;
  /** Reconnects a host cut off. */
  restore: (host: Host) => void;
  /** Kills every process in the hosts, then removes the namespaces, the links and the bridge. */
  remove: () => Promise<void>;
}

/** `ip ARGS`; a failure throws with its output, unless `allowFailure`. */
function ip(args: string[], allowFailure = false): SpawnSyncReturns<string> {
  const run = spawnSync('ip', args, { encoding: 'utf8', timeout: 60_000 });
  if (!allowFailure) assert.ok(run.error === undefined && run.status === 0, `ip ${args.join(' ')}: ${run.error?.message ?? ''}${run.stderr}`);
  return run;
}

/** The network namespaces of the machine, by name. */
export function namespaces(): string[] {
  return ip(['netns', 'list']).stdout.split('\n').map((line) => line.split(' ')[0] as string).filter((name) => name !== '');
}

/** The network interfaces of the machine's own namespace, by name (a veth's "@peer" dropped). */
export function links(): string[] {
  return ip(['-o', 'link', 'show']).stdout.split('\n').map((line) => /^\d+:\s+([^:@\s]+)/.exec(line)?.[1]).filter((name) => name !== undefined);
}

/** True when this machine can make hosts (root, iproute2); otherwise the test skips (fails under CI=true). */
export function canMakeHosts(t: TestContext): boolean {
  if (process.getuid?.() !== 0) return prerequisiteMissing(t, 'test hosts (network namespaces) need root; CI runs the tests as root');
  const probe = spawnSync('ip', ['-V'], { encoding: 'utf8' });
  if (probe.error !== undefined) return prerequisiteMissing(t, 'test hosts need iproute2 (`ip`; Debian package iproute2)');
  return true;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** SIGKILL to every process in a namespace: one left there would keep it (and its veth) alive after `ip netns del`. */
function killAllIn(netns: string): void {
  const pids = ip(['netns', 'pids', netns], true).stdout.split('\n').filter((p) => /^\d+$/.test(p)).map(Number);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
}

/** Removes what a set of hosts named `tag…` made; each step tolerates what is already gone. */
function removeByTag(tag: string): void {
  const ours = (name: string) => name.startsWith(tag);
  for (const netns of namespaces().filter(ours)) killAllIn(netns);
  for (const netns of namespaces().filter(ours)) ip(['netns', 'del', netns], true);
  // A veth whose other end was in a deleted namespace goes with it; the bridge, and a veth whose
  // move never happened, are removed here.
  for (const link of links().filter(ours)) ip(['link', 'del', link], true);
}

/** Removes what test processes that no longer run left behind (a run killed before its after-hook). */
function removeLeftovers(): void {
  const tags = new Set<string>();
  for (const name of [...namespaces(), ...links()]) {
    const m = new RegExp(`^(${PREFIX}(\\d+)[a-z])`).exec(name);
    if (m !== null && (Number(m[2]) === process.pid || !alive(Number(m[2])))) tags.add(m[1] as string);
  }
  for (const tag of tags) removeByTag(tag);
}

let made = 0;

/**
 * The /24 of a set: 10.x.y.0 from the test process's pid and the set's number in it, so that test
 * files running side by side (each its own process) use different ranges. The ranges only exist on
 * these links: even one that the machine uses elsewhere would not be reached from a host.
 */
function subnetOf(pid: number, set: number): string {
  return `10.${(pid >> 6) & 255}.${((pid & 63) << 2) | (set & 3)}`;
}

/** `count` hosts on a new bridge, each with `lo` up and its address; `remove()` undoes it. */
export function makeHosts(count: number): TestHosts {
  assert.ok(count >= 1 && count <= 200, `a set of 1 to 200 hosts, not ${count}`);
  removeLeftovers();
  const set = made++;
  const tag = `${PREFIX}${process.pid}${String.fromCharCode(97 + (set % 26))}`;
  assert.ok(`${tag}v${count - 1}`.length <= IFNAMSIZ, `interface names from ${tag} too long`);
  const net = subnetOf(process.pid, set);
  const bridge = `${tag}b`;
  const hosts: Host[] = Array.from({ length: count }, (_, index) => ({ index, netns: `${tag}n${index}`, address: `${net}.${index + 1}`, veth: `${tag}v${index}` }));
  const children: HostProcess[] = [];
  // A test process that ends without its after-hook (an uncaught error) still removes its hosts.
  const onExit = () => removeByTag(tag);
  process.once('exit', onExit);
  try {
    ip(['link', 'add', bridge, 'type', 'bridge']);
    ip(['link', 'set', bridge, 'up']);
    for (const host of hosts) {
      const inside = `${tag}p${host.index}`;
      ip(['netns', 'add', host.netns]);
      ip(['-n', host.netns, 'link', 'set', 'lo', 'up']);
      ip(['link', 'add', host.veth, 'type', 'veth', 'peer', 'name', inside]);
      ip(['link', 'set', inside, 'netns', host.netns]);
      ip(['-n', host.netns, 'link', 'set', inside, 'name', 'eth0']);
      ip(['-n', host.netns, 'addr', 'add', `${host.address}/24`, 'dev', 'eth0']);
      ip(['-n', host.netns, 'link', 'set', 'eth0', 'up']);
      ip(['link', 'set', host.veth, 'master', bridge]);
      ip(['link', 'set', host.veth, 'up']);
    }
  } catch (err) {
    removeByTag(tag);
    process.removeListener('exit', onExit);
    throw err;
  }

  const spawnIn = (host: Host, command: string, args: string[], env: NodeJS.ProcessEnv = testEnv({})): HostProcess => {
    const child = spawn('ip', ['netns', 'exec', host.netns, command, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const waitForOutput = async (pattern: RegExp, what: string, timeoutMs?: number) => {
      await waitFor(what, () => pattern.test(output), { detail: () => output, ...(timeoutMs === undefined ? {} : { timeoutMs }) });
    };
    const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    };
    const running = { child, output: () => output, exited, waitForOutput, kill };
    children.push(running);
    return running;
  };
  const cliArgs = (command: 'fink' | 'fink_kafka', args: string[]) => [...NODE_FLAGS, join(packageRoot(), 'bin', `${command}.ts`), ...args];

  return {
    hosts,
    bridge,
    subnet: `${net}.0/24`,
    names: () => [bridge, ...hosts.flatMap((h) => [h.netns, h.veth])],
    run(host, command, args, options = {}) {
      return spawnSync('ip', ['netns', 'exec', host.netns, command, ...args], { encoding: 'utf8', input: options.input, env: options.env ?? testEnv({}), timeout: options.timeoutMs ?? 300_000, maxBuffer: 256 << 20 });
    },
    runBytes(host, command, args, options = {}) {
      return spawnSync('ip', ['netns', 'exec', host.netns, command, ...args], { env: testEnv({}), timeout: options.timeoutMs ?? 300_000, maxBuffer: 1 << 30 });
    },
    spawn: spawnIn,
    spawnCli: (host, command, args, overrides) => spawnIn(host, process.execPath, cliArgs(command, args), testEnv(overrides)),
    async runCli(host, command, args, overrides) {
      const child = spawnIn(host, process.execPath, cliArgs(command, args), testEnv(overrides));
      const status = await child.exited;
      return { status, output: child.output() };
    },
    cut: (host) => void ip(['link', 'set', host.veth, 'down']),
    restore: (host) => void ip(['link', 'set', host.veth, 'up']),
    async remove() {
      removeByTag(tag);
      // Our own children are reaped here: until then a killed one stays a zombie under its pid.
      for (const { child } of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await Promise.all(children.map((c) => c.exited));
      process.removeListener('exit', onExit);
    },
  };
}
