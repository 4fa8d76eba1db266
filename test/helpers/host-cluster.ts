// A managed cluster spread over test hosts (hosts.ts): node i on host i, each started there with
// `fink_kafka start --brokers N --node I` and its own state folder, as an operator would on real
// machines; and what the fault tests do to it and read from it: a broker SIGKILLed and started
// again, a topic read back at read_committed by an independent client (kcat) on another host.
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { nodeLayout, type NodeLayout } from '../../src/cluster/layout.ts';
import { runningPid } from '../../src/cluster/processes.ts';
import type { Host, HostProcess, TestHosts } from './hosts.ts';
import { tempDir } from './temp.ts';
import { waitFor } from './wait.ts';

/** The clients' port on every broker host (each host has its own ports). */
export const BROKER_PORT = 9092;

export interface HostCluster {
  /** DISTRIBUTION_SERVERS: every broker's address:port. */
  servers: string;
  /** The hosts that run the brokers, node i on brokers[i]. */
  brokers: Host[];
  /** Node i's state folder (on this machine's disk, shared by the namespaces). */
  stateDirs: string[];
  /** The configuration of node i's commands (fink_kafka start/stop --node i). */
  brokerEnv: (index: number) => Record<string, string>;
  /** The configuration of a client on any host: the servers, and a state folder of its own. */
  clientEnv: () => Record<string, string>;
  /** What each node's `fink_kafka start` printed. */
  startOutputs: string[];
  /** Node i's layout, as its host sees it. */
  layout: (index: number) => NodeLayout;
  /** SIGKILLs node i, as a crash would; resolves once the process is gone. */
  killBroker: (index: number) => Promise<void>;
  /** Starts node i again on its host and storage (after killBroker), waiting until it answers. */
  reviveBroker: (index: number) => Promise<void>;
  /** Stops every node at once on its host (stopped one by one, the last would have lost its quorum); returns each stop's output. */
  stop: () => Promise<string[]>;
  /** Removes the state folders (after stop, or after the hosts are removed). */
  removeState: () => void;
}

/** Whether a process runs: not gone, nor a zombie that its new parent has yet to reap. */
export function processRuns(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Node i on hosts.hosts[i] for i < `count`, all started at once (each waits for a majority). */
export async function startHostCluster(hosts: TestHosts, count: number): Promise<HostCluster> {
  assert.ok(hosts.hosts.length >= count, `${count} brokers need ${count} hosts, not ${hosts.hosts.length}`);
  const brokers = hosts.hosts.slice(0, count);
  const servers = brokers.map((h) => `${h.address}:${BROKER_PORT}`).join(',');
  const stateDirs = brokers.map((_, i) => tempDir(`kafka-host${i}`));
  const brokerEnv = (i: number) => ({ DISTRIBUTION_SERVERS: servers, KAFKA_STATE_DIR: stateDirs[i] as string, KAFKA_HEAP_OPTS: '-Xms128m -Xmx512m' });
  const layout = (i: number) => nodeLayout({ servers: servers.split(','), stateDir: stateDirs[i] as string, keys: { servers: 'DISTRIBUTION_SERVERS', stateDir: 'KAFKA_STATE_DIR' } }, i, count);
  const start = async (i: number) => {
    const run = await hosts.runCli(brokers[i]!, 'fink_kafka', ['start', '--brokers', String(count), '--node', String(i)], brokerEnv(i));
    assert.equal(run.status, 0, `fink_kafka start --node ${i} on ${brokers[i]!.address}:\n${run.output}`);
    return run.output;
  };
  const startOutputs = await Promise.all(brokers.map((_, i) => start(i)));
  return {
    servers,
    brokers,
    stateDirs,
    brokerEnv,
    clientEnv: () => ({ DISTRIBUTION_SERVERS: servers, KAFKA_STATE_DIR: tempDir('kafka-client') }),
    startOutputs,
    layout,
    async killBroker(i) {
      const pid = runningPid(layout(i));
      assert.ok(pid !== undefined, `node ${i} is not running`);
      process.kill(pid, 'SIGKILL');
      await waitFor(`node ${i} (pid ${pid}) to be gone after SIGKILL`, () => !processRuns(pid));
    },
    async reviveBroker(i) {
      await start(i);
    },
    async stop() {
      const stops = await Promise.all(brokers.map((h, i) => hosts.runCli(h, 'fink_kafka', ['stop', '--node', String(i)], brokerEnv(i))));
      for (const [i, s] of stops.entries()) assert.equal(s.status, 0, `fink_kafka stop --node ${i}:\n${s.output}`);
      return stops.map((s) => s.output);
    },
    removeState() {
      for (const dir of stateDirs) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** kcat on `host` against the cluster; a kcat that fails or hangs is a failure, with its output. */
function kcatOn(hosts: TestHosts, host: Host, servers: string, args: string[], input?: string): string {
  const run = hosts.run(host, 'kcat', ['-b', servers, ...args], input === undefined ? {} : { input });
  assert.ok(run.error === undefined && run.status === 0, `kcat ${args.join(' ')} on ${host.address}: ${run.error?.message ?? ''}${run.stderr}`);
  return run.stdout;
}

/** Writes `key:value` lines to `topic` from `host` (acks=all, idempotent). */
export function produceFrom(hosts: TestHosts, host: Host, servers: string, topic: string, lines: string[]): void {
  kcatOn(hosts, host, servers, ['-P', '-t', topic, '-K', ':', '-X', 'acks=all', '-X', 'enable.idempotence=true'], lines.map((l) => `${l}\n`).join(''));
}

/** Every committed message of `topic`, as `format` (kcat -f) prints it, read from `host` at read_committed. */
export function readCommittedFrom(hosts: TestHosts, host: Host, servers: string, topic: string, format = '%k=%s'): string[] {
  return kcatOn(hosts, host, servers, ['-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-X', 'isolation.level=read_committed', '-f', `${format}\n`]).split('\n').slice(0, -1);
}

/**
 * The lines that are not there exactly once: missing (expected, never read) and doubled (read more
 * than once, with their count); both empty when every expected line was read once and nothing else.
 */
export function exactlyOnce(read: readonly string[], expected: readonly string[]): { missing: string[]; doubled: string[]; unexpected: string[] } {
  const counts = new Map<string, number>();
  for (const line of read) counts.set(line, (counts.get(line) ?? 0) + 1);
  const wanted = new Set(expected);
  return {
    missing: expected.filter((l) => !counts.has(l)),
    doubled: [...counts].filter(([l, n]) => n > 1 && wanted.has(l)).map(([l, n]) => `${l} x${n}`),
    unexpected: [...counts.keys()].filter((l) => !wanted.has(l)),
  };
}

/**
 * Cuts `host` off for `ms` (the fault tests' 30 s partition), then reconnects it; `during` runs
 * while it is cut off (checks that the others go on). The host is reconnected even if `during` throws.
 */
export async function partitioned<T>(hosts: TestHosts, host: Host, ms: number, during: () => Promise<T>): Promise<T> {
  const until = Date.now() + ms;
  hosts.cut(host);
  try {
    const result = await during();
    // The partition lasts its length whatever `during` took: the fault, not a wait for a condition.
    const left = until - Date.now();
    if (left > 0) await new Promise((resolve) => setTimeout(resolve, left));
    return result;
  } finally {
    hosts.restore(host);
  }
}

/** A record as kcat read it, its key and value as bytes. */
export interface HostRecord {
  partition: number;
  offset: bigint;
  key: Buffer | null;
  value: Buffer | null;
}

/** kcat's header of a record before its key and value: partition, offset, key length, value length (-1: null). */
const RECORD_HEADER = /^(\d+) (\d+) (-?\d+) (-?\d+)$/;

/**
 * Every committed record of `topic`, read by kcat on `host` at read_committed, key and value as
 * bytes (binary values such as Avro datums): each record is a header line with the lengths, then
 * exactly that many bytes of key and of value, so that no byte of a value can be taken for a delimiter.
 */
export function readCommittedRecordsFrom(hosts: TestHosts, host: Host, servers: string, topic: string): HostRecord[] {
  const args = ['-b', servers, '-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-X', 'isolation.level=read_committed', '-f', '%p %o %K %S\n%k%s\n'];
  const run = hosts.runBytes(host, 'kcat', args);
  assert.ok(run.error === undefined && run.status === 0, `kcat -C -t ${topic} on ${host.address}: ${run.error?.message ?? ''}${run.stderr.toString()}`);
  const out = run.stdout;
  const records: HostRecord[] = [];
  for (let at = 0; at < out.length; ) {
    const eol = out.indexOf(0x0a, at);
    const header = RECORD_HEADER.exec(out.subarray(at, eol).toString('latin1'));
    assert.ok(eol >= 0 && header !== null, `kcat -C -t ${topic}: no record header at byte ${at} of ${out.length}`);
    const [keyLength, valueLength] = [Number(header[3]), Number(header[4])];
    const keyAt = eol + 1;
    const valueAt = keyAt + Math.max(keyLength, 0);
    const end = valueAt + Math.max(valueLength, 0);
    assert.equal(out[end], 0x0a, `kcat -C -t ${topic}: record at ${header[1]}/${header[2]} not followed by its delimiter`);
    records.push({
      partition: Number(header[1]),
      offset: BigInt(header[2]!),
      key: keyLength < 0 ? null : Buffer.from(out.subarray(keyAt, valueAt)),
      value: valueLength < 0 ? null : Buffer.from(out.subarray(valueAt, end)),
    });
    at = end + 1;
  }
  return records;
}

/** A kcat on `host` following `topic` from its end, printing `partition offset` per record; at read_committed unless `uncommitted`. */
export function followFrom(hosts: TestHosts, host: Host, servers: string, topic: string, uncommitted = false): HostProcess {
  const isolation = uncommitted ? 'read_uncommitted' : 'read_committed';
  return hosts.spawn(host, 'kcat', ['-b', servers, '-C', '-t', topic, '-o', 'end', '-q', '-X', `isolation.level=${isolation}`, '-f', '%p %o\n']);
}

/** The highest offset per partition among `partition offset` lines (a follower's output). */
export function highestOffsets(lines: string): Map<number, bigint> {
  const highest = new Map<number, bigint>();
  for (const m of lines.matchAll(/^(\d+) (\d+)$/gm)) {
    const [p, o] = [Number(m[1]), BigInt(m[2]!)];
    if ((highest.get(p) ?? -1n) < o) highest.set(p, o);
  }
  return highest;
}

/**
 * Per partition of `topic`, the offset past its last record (read_uncommitted, so an open
 * transaction's records count), read by kcat on `host`: a record at or past it was written later.
 * The last hundred offsets are read, not only the last one, which may be a transaction's marker.
 */
export async function endOffsetsFrom(hosts: TestHosts, host: Host, servers: string, topic: string, partitions: number): Promise<bigint[]> {
  const last = hosts.spawn(host, 'kcat', ['-b', servers, '-C', '-t', topic, '-o', '-100', '-e', '-q', '-f', '%p %o\n']);
  const status = await last.exited;
  assert.equal(status, 0, `kcat -C -t ${topic} -o -100 on ${host.address}: ${last.output()}`);
  const highest = highestOffsets(last.output());
  return Array.from({ length: partitions }, (_, p) => (highest.get(p) ?? -1n) + 1n);
}

/** How many records of `topic` kcat on `host` reads at read_committed (without blocking the test's event loop). */
export async function countCommittedFrom(hosts: TestHosts, host: Host, servers: string, topic: string): Promise<number> {
  const read = hosts.spawn(host, 'kcat', ['-b', servers, '-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-X', 'isolation.level=read_committed', '-f', '%o\n']);
  const status = await read.exited;
  assert.equal(status, 0, `kcat -C -t ${topic} on ${host.address}: ${read.output()}`);
  return read.output().split('\n').filter((l) => /^\d+$/.test(l)).length;
}
