// What the cases of bench/run.ts share: the run's settings (one object made by main, no state at
// module level), the environment of a service run, science databases made once and kept, the
// service as a child process, a fresh topic per measurement, and an independent consumer.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { NODE_FLAGS } from '../src/cli/runtime.ts';
import { packageRoot, type Config } from '../src/config/config.ts';
import { readTopic } from '../src/kafka/topic-reader.ts';
import { WireSchemas } from '../src/distribution/wire.ts';
import { deleteTopic, ensureTopic } from '../src/kafka/topics.ts';
import { openReader, type AlertReader, type Checkpoint, type StoredAlert } from '../src/sciencedb/reader.ts';
import { simulateIntoDb } from '../src/sciencedb/simulate.ts';
import { LSST_PROFILES, ZTF_PROFILES, type AnyProfile } from '../src/sciencedb/simulation.ts';
import type { Compression } from '../src/kafka/transactional-producer.ts';
import { parseAvroType, type AvroType } from '../src/avro/schema.ts';
import { kafkaClientOptions } from '../src/kafka/client-options.ts';

export const root = packageRoot();
export const node = process.execPath;
export const benchDir = join(root, 'var', 'bench');
export const BENCH_PROFILES: readonly AnyProfile[] = [...ZTF_PROFILES, ...LSST_PROFILES];
export type BenchProfile = AnyProfile;
export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
export const say = (line: string) => process.stdout.write(line + '\n');

/** One benchmark run's settings and cluster, made once by main and handed to every case. */
export interface Bench {
  base: Config;
  partitions: number;
  bootstrap: string;
  compression: Compression;
  /** Runs per measurement (the median is reported). */
  repeat: number;
  /** Kafka's jars (for ProducerPerformance). */
  libs: string;
  /** A name never used before in this run (topics, distribution ids). */
  freshName: (what: string) => string;
  /** The cluster's processes (brokersSettled). */
  brokerPids: readonly number[];
}

/** A case's share of the JSON report and its rows of the closing table. */
export interface CaseResult {
  report: Record<string, unknown>;
  rows: string[][];
}

/** Names unique within a run: the time, then a counter that the returned function owns. */
export function nameMaker(): (what: string) => string {
  let runId = 0;
  return (what) => `bench-${what}-${Date.now().toString(36)}-${++runId}`;
}

export function benchEnv(bench: Bench, db: string, topic: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...process.env as Record<string, string>,
    SCIENCE_DB_PATH: db,
    DISTRIBUTION_TEST_TOPIC: topic,
    DISTRIBUTION_TOPICS: 'none',
    DISTRIBUTION_ID: bench.freshName('id'),
    DISTRIBUTION_SCHEMA: join(benchDir, 'schemas', 'distribution_schema.avsc'),
    DISTRIBUTION_STATE_DIR: join(benchDir, 'state'),
    DISTRIBUTION_COMPRESSION: bench.compression,
    ...extra,
  };
}

/** A science database of `count` simulated alerts, made once and kept under var/bench. */
export function prefilled(profile: BenchProfile, count: number): string {
  const dir = join(benchDir, `db-${profile}-${count}`);
  const marker = join(dir, '.complete');
  if (!existsSync(marker)) {
    rmSync(dir, { recursive: true, force: true });
    const t0 = performance.now();
    simulateIntoDb(dir, { profile, seed: 1, night: '20261125' }, count);
    writeFileSync(marker, '');
    say(`  simulated ${count} ${profile} alerts into ${dir} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  return dir;
}

/** Every alert of a database, in order, read in batches as the service reads them. */
export function* storedAlerts(reader: AlertReader): Generator<StoredAlert> {
  let checkpoint: Checkpoint = {};
  for (;;) {
    const { alerts, checkpoint: next } = reader.read(checkpoint, 5000);
    if (alerts.length === 0) return;
    yield* alerts;
    checkpoint = next;
  }
}

/** The average message (key + value) the service sends for a database's alerts. */
export function averageMessage(dir: string): number {
  const reader = openReader(dir);
  const wire = new WireSchemas((id) => reader.schemaJson(id));
  let bytes = 0;
  let n = 0;
  for (const a of storedAlerts(reader)) {
    const w = wire.forAlert(a);
    bytes += w.key.length + w.encode(a).length;
    n++;
  }
  reader.close();
  return Math.round(bytes / n);
}

export interface ServiceRun { alerts: number; /** Of the community topics. */ messages: number; bytes: number; /** Of the user filters' topics (bench/distribute.ts). */ user_messages: number; user_bytes: number; seconds: number; cpu_s: number; /** With BENCH_STEADY_AFTER (bench/distribute.ts): the CPU of the alerts after that count, and how many they were. */ steady_cpu_s?: number; steady_alerts?: number; peak_rss_mb: number; /** V8's minor and major collections during the run, and the main thread's milliseconds in them (bench/distribute.ts). */ gc_minor?: number; gc_major?: number; gc_ms?: number; /** What the topic took on the brokers afterwards (the throughput case without --console). */ log_bytes?: number }

export function runService(env: Record<string, string>, onPid?: (pid: number) => void): Promise<ServiceRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(node, [...NODE_FLAGS, join(root, 'bench', 'distribute.ts')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    onPid?.(child.pid!);
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').at(-1)!) as ServiceRun) : reject(new Error(`the service run failed (exit ${code}):\n${err}`))));
  });
}

export interface PerformanceRun { records_per_s: number; mb_per_s: number }

export function producerPerformance(bench: Bench, topic: string, count: number, recordSize: number): PerformanceRun {
  const args = [
    '-Xmx1g', '-cp', `${bench.libs}/*`, 'org.apache.kafka.tools.ProducerPerformance',
    '--topic', topic, '--num-records', String(count), '--record-size', String(recordSize), '--throughput', '-1',
    // Batches of up to 1 MB, as the service sends: with the default 16 KB every alert would be a
    // batch of its own and the ceiling would be lower than it is.
    '--producer-props', `bootstrap.servers=${bench.bootstrap}`, 'acks=all', `compression.type=${bench.compression}`, 'batch.size=1048576', 'linger.ms=20',
  ];
  const run = spawnSync('java', args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  const line = run.stdout.split('\n').reverse().find((l) => /records sent/.test(l));
  if (run.status !== 0 || line === undefined) throw new Error(`ProducerPerformance failed (exit ${run.status}):\n${run.stdout}\n${run.stderr}`);
  const recordsPerS = Number(/([\d.]+) records\/sec/.exec(line)![1]);
  return { records_per_s: recordsPerS, mb_per_s: (recordsPerS * recordSize) / 1e6 };
}

export async function withTopic<T>(bench: Bench, name: string, body: () => Promise<T> | T, configs?: Record<string, string>): Promise<T> {
  const { base } = bench;
  await ensureTopic(kafkaClientOptions(base, 'admin'), name, { partitions: bench.partitions, replicationFactor: base.int('DISTRIBUTION_REPLICATION'), configs });
  try {
    return await body();
  } finally {
    await deleteTopic(kafkaClientOptions(base, 'admin'), name).catch(() => false);
  }
}

/** Follows a topic from its start, decoding each message with its key, until `count` arrived. */
export async function consumeUntil(config: Config, topic: string, count: number, onAlert: (candid: bigint, at: number) => void, timeoutMs: number): Promise<number> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const types = new Map<string, AvroType>();
  let n = 0;
  try {
    for await (const m of readTopic(kafkaClientOptions(config), topic, { follow: true, signal: controller.signal })) {
      const key = m.key!.toString();
      let type = types.get(key);
      if (type === undefined) types.set(key, (type = parseAvroType(JSON.parse(key))));
      const alert = type.fromBuffer(m.value!) as { candid: bigint };
      onAlert(alert.candid, Date.now());
      if (++n >= count) break;
    }
  } finally {
    clearTimeout(timer);
  }
  return n;
}

/** The continuous service as a child process (the real command), ready when it has read its checkpoint. */
export async function continuousService(env: Record<string, string>): Promise<{ stop: () => Promise<void>; log: () => string }> {
  const child = spawn(node, [...NODE_FLAGS, join(root, 'bin', 'fink.ts'), 'start', 'distribution'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const t0 = Date.now();
  while (!/no checkpoint yet|resuming/.test(log)) {
    if (Date.now() - t0 > 60_000 || child.exitCode !== null) throw new Error(`the service did not start:\n${log}`);
    await sleep(20);
  }
  return { stop: async () => { child.kill('SIGTERM'); await exited; }, log: () => log };
}

/** CPU seconds (user + system) a live process has used, from /proc (in USER_HZ, 100 a second here). */
export function cpuSeconds(pid: number): number {
  // The fields after the command's closing parenthesis (the command may hold spaces): utime, stime are the 12th and 13th.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The CPU seconds that the processes have used so far; a process gone counts nothing. */
export function cpuSecondsOf(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      total += cpuSeconds(pid);
    } catch {
      // gone
    }
  }
  return total;
}

/**
 * Waits until the brokers have been quiet (under `cores` of CPU) for a whole second, and returns
 * the seconds waited: a case that has just made a hundred topics for its run, and deleted the
 * previous run's, leaves the brokers busy for a second or more (logs made and removed, the
 * controller's records), and on this 2-core machine their work beside the measured service would
 * be counted in its CPU time too (the service's own threads wait for a core, its caches are
 * shared). After `deadlineMs` it measures anyway, and says so.
 */
export async function brokersSettled(bench: Bench, { cores = 0.1, deadlineMs = 120_000 } = {}): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    const before = cpuSecondsOf(bench.brokerPids);
    const w0 = performance.now();
    await sleep(1000);
    const used = cpuSecondsOf(bench.brokerPids) - before;
    const waited = (performance.now() - t0) / 1000;
    if (used / ((performance.now() - w0) / 1000) <= cores) return waited;
    if (waited * 1000 > deadlineMs) {
      say(`  (the brokers were still busy after ${waited.toFixed(0)} s: measuring anyway)`);
      return waited;
    }
  }
}
