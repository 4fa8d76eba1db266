// `npm run bench -- --cases upstream`: the live chain at Rubin's rate. The simulator cluster and its
// schema registry (started here unless running), `fink start simulator --survey lsst` replaying
// visits at a fixed interval, `fink start stream2science` consuming them into a fresh science
// database, `fink start distribution` publishing on a fresh community topic, and a consumer here
// reading that topic. An alert's latency runs from its upstream message's timestamp to when the
// consumer here decoded it on the community topic. The upstream topic is made afresh with
// message.timestamp.type=LogAppendTime: the timestamp is when the survey's broker appended the
// message, so the latency is what the chain adds, not the simulator's own time to send a visit.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeConfluent } from '../src/avro/confluent-wire.ts';
import { parseAvroType, type AvroType } from '../src/avro/schema.ts';
import { fetchSchemaById } from '../src/avro/schema-registry.ts';
import { NODE_FLAGS } from '../src/cli/runtime.ts';
import type { Config } from '../src/config/config.ts';
import { kafkaClientOptions, type KafkaConnection } from '../src/kafka/client-options.ts';
import { startCluster, stopCluster } from '../src/cluster/cluster.ts';
import { clusterConnection, clusterSettings, registrySettings } from '../src/cluster/settings.ts';
import { startRegistry, stopRegistry } from '../src/cluster/registry.ts';
import { simulatorSettings } from '../src/simulator/settings.ts';
import { readTopic } from '../src/kafka/topic-reader.ts';
import { deleteTopic, ensureTopic } from '../src/kafka/topics.ts';
import { cpuSeconds } from './harness.ts';

export interface UpstreamOptions {
  root: string;
  /** The configuration of the redistribution cluster (the simulator's is derived from it). */
  base: Config;
  /** The environment of a distribution run into a fresh topic (benchEnv). */
  distributionEnv: Record<string, string>;
  communityTopic: string;
  profile: 'lsst' | 'lsst-light';
  alerts: number;
  visitInterval: number;
  workDir: string;
  /**
   * Where stream2science writes: `sqlite` (a fresh science database under workDir) or `kafka` (the
   * science log under `logPrefix`, made beforehand, its positions in `<logPrefix>positions`); the
   * distribution reads the same (with the log: a group of one, DISTRIBUTION_ID's).
   */
  store: 'sqlite' | 'kafka';
  logPrefix: string;
  say: (line: string) => void;
}

export interface UpstreamRun {
  alerts: number;
  visits: number;
  p50_s: number;
  p99_s: number;
  max_s: number;
  /** Alerts on the community topic per second, from the first upstream message to the last arrival. */
  alerts_per_s: number;
  stream2science_cpu_s: number;
  distribution_cpu_s: number;
  /** The same per alert, in ms: the figures the issue compares (stream2science at most the distribution's). */
  stream2science_cpu_ms_per_alert: number;
  distribution_cpu_ms_per_alert: number;
  /** Peak resident memory of stream2science over its run (VmHWM). */
  stream2science_peak_rss_mb: number;
}

/**
 * BENCH_STREAM2SCIENCE_NODE_FLAGS (space-separated) go to stream2science's node: `--cpu-prof
 * --cpu-prof-dir=DIR` writes a .cpuprofile when it stops, `--perf-basic-prof` names its JIT code
 * for Linux perf, `--trace-gc` lists its collections in its output, which BENCH_STREAM2SCIENCE_LOG
 * names a file for. A profiler costs CPU of its own: a run with one is for the profile, not the figures.
 */
function profileFlags(): string[] {
  return (process.env.BENCH_STREAM2SCIENCE_NODE_FLAGS ?? '').split(' ').filter((f) => f !== '');
}

/** The peak resident memory of a live process, in MB, from /proc. */
function peakRssMb(pid: number): number {
  return Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
}

interface Service {
  child: ChildProcess;
  log: () => string;
  stop: () => Promise<void>;
}

async function startService(root: string, args: string[], env: Record<string, string>, ready: RegExp, nodeFlags: readonly string[] = []): Promise<Service> {
  const child = spawn(process.execPath, [...NODE_FLAGS, ...nodeFlags, join(root, 'bin', 'fink.ts'), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const deadline = Date.now() + 120_000;
  while (!ready.test(log)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`fink ${args.join(' ')} did not start:\n${log}`);
    await sleep(50);
  }
  return { child, log: () => log, stop: async () => { if (child.exitCode === null) child.kill('SIGTERM'); await exited; } };
}

/** Where the simulator writes the project's Rubin alerts (lsst.v10_0). */
const UPSTREAM_TOPIC = 'lsst-alerts-v10';

/** The topic deleted if it exists and made again, its timestamps the broker's append times. */
async function freshUpstreamTopic(connection: KafkaConnection, topic: string, partitions: number): Promise<void> {
  await deleteTopic(connection, topic);
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      if (await ensureTopic(connection, topic, { partitions, replicationFactor: 1, configs: { 'message.timestamp.type': 'LogAppendTime' } })) return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    // Still listed while its deletion completes.
    if (Date.now() > deadline) throw new Error(`${topic} could not be made again within 120 s`);
    await sleep(500);
  }
}

export async function upstreamCase(o: UpstreamOptions): Promise<UpstreamRun> {
  const simulator = clusterSettings(o.base, 'simulator');
  const registrySetup = registrySettings(o.base);
  const { registryUrl, partitions } = simulatorSettings(o.base);
  const cluster = await startCluster(simulator, o.say);
  const registry = await startRegistry(registrySetup, o.say);
  const simulatorServers = simulator.servers.join(',');
  rmSync(o.workDir, { recursive: true, force: true });
  const db = join(o.workDir, 'science');
  const storeEnv: Record<string, string> = o.store === 'sqlite' ? { SCIENCE_DB_PATH: db } : { SCIENCE_DB_PATH: db, SCIENCE_STORE: 'kafka', SCIENCE_TOPIC_PREFIX: o.logPrefix, UPSTREAM_POSITIONS_TOPIC: `${o.logPrefix}positions` };
  const streamEnv = {
    ...o.distributionEnv,
    ...storeEnv,
    UPSTREAM_SERVERS: simulatorServers,
    UPSTREAM_TOPICS: 'lsst-alerts-v.*',
    UPSTREAM_FORMAT: 'lsst',
    UPSTREAM_SCHEMA_REGISTRY: registryUrl,
    UPSTREAM_GROUP_ID: `bench-${Date.now().toString(36)}`,
    UPSTREAM_STATE_DIR: join(o.workDir, 'stream2science'),
    UPSTREAM_TOPICS_REFRESH_MS: '1000',
  };
  const services: Service[] = [];
  try {
    await freshUpstreamTopic(clusterConnection(simulator), UPSTREAM_TOPIC, partitions);
    // Only what the simulator sends from now on.
    services.push(await startService(o.root, ['start', 'stream2science', '--reset-to', 'latest'], streamEnv, /positions reset/, profileFlags()));
    // With the log, ready once the group of one holds the science topics' partitions.
    services.push(await startService(o.root, ['start', 'distribution'], { ...o.distributionEnv, ...storeEnv }, o.store === 'sqlite' ? /no checkpoint yet|resuming/ : /partitions taken at the committed offsets/));
    const [stream, distribution] = services as [Service, Service];
    const cpu0 = [cpuSeconds(stream.child.pid!), cpuSeconds(distribution.child.pid!)];

    // The community side: every alert of the run, by id, when it was decoded here.
    const arrived = new Map<bigint, number>();
    const controller = new AbortController();
    const types = new Map<string, AvroType>();
    const consuming = (async () => {
      for await (const m of readTopic(kafkaClientOptions(o.base), o.communityTopic, { follow: true, signal: controller.signal })) {
        const key = m.key!.toString();
        let type = types.get(key);
        if (type === undefined) types.set(key, (type = parseAvroType(JSON.parse(key))));
        arrived.set((type.fromBuffer(m.value!) as { diaSourceId: bigint }).diaSourceId, Date.now());
        if (arrived.size >= o.alerts) return;
      }
    })().catch((err: unknown) => {
      if (!controller.signal.aborted) throw err;
    });

    const started = Date.now();
    const replay = spawn(process.execPath, [...NODE_FLAGS, join(o.root, 'bin', 'fink.ts'), 'start', 'simulator', '--survey', 'lsst', '--simulate', String(o.alerts), '--profile', o.profile, '--seed', String(started % 1_000_000), '--visit-interval', String(o.visitInterval)], { env: { ...streamEnv, SIMULATOR_SERVERS: simulatorServers }, stdio: ['ignore', 'pipe', 'inherit'] });
    let replayOut = '';
    replay.stdout!.on('data', (d: Buffer) => (replayOut += d.toString()));
    const replayed = await new Promise<number | null>((resolve) => replay.on('exit', resolve));
    if (replayed !== 0) throw new Error(`the simulator failed (exit ${replayed}):\n${replayOut}`);
    const visits = Number(/done: (\d+) exposures/.exec(replayOut)?.[1] ?? NaN);
    const deadline = Date.now() + 600_000;
    while (arrived.size < o.alerts && Date.now() < deadline) await sleep(200);
    controller.abort();
    await consuming;
    if (arrived.size < o.alerts) throw new Error(`only ${arrived.size} of ${o.alerts} alerts reached ${o.communityTopic}:\n${stream.log().slice(-2000)}\n${distribution.log().slice(-2000)}`);
    const cpu = [cpuSeconds(stream.child.pid!) - cpu0[0]!, cpuSeconds(distribution.child.pid!) - cpu0[1]!];
    const streamRss = peakRssMb(stream.child.pid!);

    // The survey's side: when each alert was produced, from its upstream message.
    const sentAt = new Map<bigint, number>();
    const schemas = new Map<number, AvroType>();
    const upstreamConnection = clusterConnection(simulator);
    if (!replayOut.includes(UPSTREAM_TOPIC)) throw new Error(`the simulator did not write ${UPSTREAM_TOPIC}:\n${replayOut}`);
    for await (const m of readTopic(upstreamConnection, UPSTREAM_TOPIC)) {
      const { schemaId, datum } = decodeConfluent(m.value!);
      let type = schemas.get(schemaId);
      if (type === undefined) schemas.set(schemaId, (type = parseAvroType(JSON.parse(await fetchSchemaById(registryUrl, schemaId)))));
      sentAt.set((type.fromBuffer(datum) as { diaSourceId: bigint }).diaSourceId, Number(m.timestamp));
    }
    const latencies = [...arrived].map(([id, at]) => at - sentAt.get(id)!).filter((l) => Number.isFinite(l)).sort((a, b) => a - b);
    if (latencies.length !== o.alerts) throw new Error(`${latencies.length} of ${o.alerts} alerts found upstream`);
    const first = Math.min(...sentAt.values());
    const last = Math.max(...arrived.values());
    return {
      alerts: o.alerts,
      visits,
      p50_s: latencies[Math.floor(latencies.length * 0.5)]! / 1000,
      p99_s: latencies[Math.floor(latencies.length * 0.99)]! / 1000,
      max_s: latencies.at(-1)! / 1000,
      alerts_per_s: o.alerts / ((last - first) / 1000),
      stream2science_cpu_s: cpu[0]!,
      distribution_cpu_s: cpu[1]!,
      stream2science_cpu_ms_per_alert: (cpu[0]! * 1000) / o.alerts,
      distribution_cpu_ms_per_alert: (cpu[1]! * 1000) / o.alerts,
      stream2science_peak_rss_mb: streamRss,
    };
  } finally {
    const stream2science = services[0];
    for (const s of [...services].reverse()) await s.stop();
    const logFile = process.env.BENCH_STREAM2SCIENCE_LOG;
    if (logFile !== undefined && logFile !== '' && stream2science !== undefined) writeFileSync(logFile, stream2science.log());
    if (!registry.alreadyRunning) await stopRegistry(registrySetup);
    if (!cluster.alreadyRunning) await stopCluster(simulator);
  }
}
