// `npm run bench -- [--profile ztf|ztf-light|lsst|lsst-light|...] [--count N] [--repeat R] [--cases LIST] [--compression C] [--json FILE] [--console] [--backlog-count N] [--backlog-profile P] [--upstream-alerts N] [--upstream-profile lsst|lsst-light] [--upstream-interval S]`
//
// The distribution measured against the ceiling of the same broker on the same machine, in one run:
// Kafka's own ProducerPerformance (acks=all, lz4, records of the service's average message size,
// the same count, a fresh topic with the same partitions) side by side with the service
// distributing a science database pre-filled by the simulator into a fresh topic. Then a burst of
// 10,000 ztf alerts, the latency at a steady 1,000 alerts/s, and the memory of a 1,000,000-alert
// backlog, and the live chain at Rubin's rate (bench/upstream.ts: simulator -> stream2science ->
// distribution; the simulator's visits are 1,000 alerts, so one every 4 s is Rubin's 10,000 every
// 40 s). Each measurement is repeated (median of R runs). With --console, the throughput case runs
// with `fink start console` and a headless Chromium on its page (bench/with-console.ts).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { NODE_FLAGS } from '../src/cli/runtime.ts';
import { loadConfig, packageRoot, type Config } from '../src/config/config.ts';
import { readTopic } from '../src/kafka/topic-reader.ts';
import { WireSchemas } from '../src/distribution/wire.ts';
import { startCluster, stopCluster } from '../src/cluster/cluster.ts';
import { ensureKafkaJars } from '../src/cluster/provision.ts';
import { clusterSettings } from '../src/cluster/settings.ts';
import { deleteTopic, ensureTopic, topicLogBytes } from '../src/kafka/topics.ts';
import { openReader } from '../src/sciencedb/reader.ts';
import { createSimulation, simulateIntoDb } from '../src/sciencedb/simulate.ts';
import { COMPRESSIONS, type Compression } from '../src/kafka/transactional-producer.ts';
import { ScienceWriter } from '../src/sciencedb/store.ts';
import { parseAvroType, type AvroType } from '../src/avro/schema.ts';
import { kafkaClientOptions } from '../src/kafka/client-options.ts';
import { withConsolePage } from './with-console.ts';
import { upstreamCase, type UpstreamRun } from './upstream.ts';

const root = packageRoot();
const node = process.execPath;
const { values } = parseArgs({
  options: {
    profile: { type: 'string', default: 'ztf,ztf-light' },
    compression: { type: 'string', default: 'lz4' },
    count: { type: 'string' },
    repeat: { type: 'string', default: '3' },
    cases: { type: 'string', default: 'throughput,burst,latency,memory,upstream' },
    json: { type: 'string' },
    'latency-seconds': { type: 'string', default: '60' },
    'backlog-count': { type: 'string', default: '1000000' },
    'backlog-profile': { type: 'string', default: 'ztf-light' },
    'upstream-alerts': { type: 'string', default: '10000' },
    'upstream-profile': { type: 'string', default: 'lsst' },
    'upstream-interval': { type: 'string', default: '4' },
    console: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help === true) {
  process.stdout.write(readFileSync(new URL(import.meta.url), 'utf8').split('\n').slice(0, 8).map((l) => l.replace(/^\/\/ ?/, '')).join('\n') + '\n');
  process.exit(0);
}
const BENCH_PROFILES = ['ztf', 'ztf-light', 'lsst', 'lsst-light'] as const;
type BenchProfile = (typeof BENCH_PROFILES)[number];
const profiles = values.profile.split(',') as BenchProfile[];
for (const p of profiles) if (!BENCH_PROFILES.includes(p)) throw new Error(`--profile is a comma-separated list of ${BENCH_PROFILES.join(', ')}, got '${p}'`);
const compression = values.compression as Compression;
if (!COMPRESSIONS.includes(compression)) throw new Error(`--compression is one of ${COMPRESSIONS.join(', ')}, got '${values.compression}'`);
const repeat = Number(values.repeat);
const cases = new Set(values.cases.split(','));
const defaultCount: Record<BenchProfile, number> = { ztf: 20_000, 'ztf-light': 100_000, lsst: 10_000, 'lsst-light': 100_000 };
const benchDir = join(root, 'var', 'bench');
// The backlog's topic keeps 1 GiB a partition, so that a backlog larger than the free disk (200,000
// Rubin alerts are 32 GB) can be sent: the memory case measures the service, not the broker's disk.
const BACKLOG_TOPIC_CONFIGS = { 'retention.bytes': String(1 << 30), 'segment.bytes': String(256 << 20) };
mkdirSync(benchDir, { recursive: true });

const base = loadConfig({});
const partitions = base.int('DISTRIBUTION_PARTITIONS');
const bootstrap = base.list('DISTRIBUTION_SERVERS').join(',');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const say = (line: string) => process.stdout.write(line + '\n');
let runId = 0;
const freshName = (what: string) => `bench-${what}-${Date.now().toString(36)}-${++runId}`;

function benchEnv(db: string, topic: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...process.env as Record<string, string>,
    SCIENCE_DB_PATH: db,
    DISTRIBUTION_TEST_TOPIC: topic,
    DISTRIBUTION_TOPICS: 'none',
    DISTRIBUTION_ID: freshName('id'),
    DISTRIBUTION_SCHEMA: join(benchDir, 'schemas', 'distribution_schema.avsc'),
    DISTRIBUTION_STATE_DIR: join(benchDir, 'state'),
    DISTRIBUTION_COMPRESSION: compression,
    ...extra,
  };
}

/** A science database of `count` simulated alerts, made once and kept under var/bench. */
function prefilled(profile: BenchProfile, count: number): string {
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

/** The average message (key + value) the service sends for a database's alerts. */
function averageMessage(dir: string): number {
  const reader = openReader(dir);
  const wire = new WireSchemas((id) => reader.schemaJson(id));
  let bytes = 0;
  let n = 0;
  let checkpoint = {};
  for (;;) {
    const { alerts, checkpoint: next } = reader.read(checkpoint, 5000);
    if (alerts.length === 0) break;
    for (const a of alerts) {
      const w = wire.forAlert(a);
      bytes += w.key.length + w.encode(a).length;
      n++;
    }
    checkpoint = next;
  }
  reader.close();
  return Math.round(bytes / n);
}

interface ServiceRun { alerts: number; messages: number; bytes: number; seconds: number; cpu_s: number; peak_rss_mb: number; /** What the topic took on the brokers afterwards (the throughput case without --console). */ log_bytes?: number }

function runService(env: Record<string, string>, onPid?: (pid: number) => void): Promise<ServiceRun> {
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

function producerPerformance(libs: string, topic: string, count: number, recordSize: number): { records_per_s: number; mb_per_s: number } {
  const args = [
    '-Xmx1g', '-cp', `${libs}/*`, 'org.apache.kafka.tools.ProducerPerformance',
    '--topic', topic, '--num-records', String(count), '--record-size', String(recordSize), '--throughput', '-1',
    // Batches of up to 1 MB, as the service sends: with the default 16 KB every alert would be a
    // batch of its own and the ceiling would be lower than it is.
    '--producer-props', `bootstrap.servers=${bootstrap}`, 'acks=all', `compression.type=${compression}`, 'batch.size=1048576', 'linger.ms=20',
  ];
  const run = spawnSync('java', args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  const line = run.stdout.split('\n').reverse().find((l) => /records sent/.test(l));
  if (run.status !== 0 || line === undefined) throw new Error(`ProducerPerformance failed (exit ${run.status}):\n${run.stdout}\n${run.stderr}`);
  const recordsPerS = Number(/([\d.]+) records\/sec/.exec(line)![1]);
  return { records_per_s: recordsPerS, mb_per_s: (recordsPerS * recordSize) / 1e6 };
}

async function withTopic<T>(config: Config, name: string, body: () => Promise<T> | T, configs?: Record<string, string>): Promise<T> {
  await ensureTopic(kafkaClientOptions(config, 'admin'), name, { partitions, replicationFactor: base.int('DISTRIBUTION_REPLICATION'), configs });
  try {
    return await body();
  } finally {
    await deleteTopic(kafkaClientOptions(config, 'admin'), name).catch(() => false);
  }
}

/** Follows a topic from its start, decoding each message with its key, until `count` arrived. */
async function consumeUntil(config: Config, topic: string, count: number, onAlert: (candid: bigint, at: number) => void, timeoutMs: number): Promise<number> {
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
async function continuousService(env: Record<string, string>): Promise<{ stop: () => Promise<void>; log: () => string }> {
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

const report: Record<string, unknown> = {};
const table: string[][] = [];

async function main(): Promise<void> {
  say(`fink-distribution benchmark: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${repeat} runs per measurement (median)`);
  const cluster = clusterSettings(base, 'distribution');
  const libs = ensureKafkaJars(cluster, say);
  const started = await startCluster(cluster, say);
  say(started.alreadyRunning ? `using the running cluster at ${bootstrap}` : `started the managed cluster at ${bootstrap}`);
  try {
    if (cases.has('throughput')) {
      const byProfile: Record<string, unknown> = {};
      for (const profile of profiles) {
        const count = Number(values.count ?? defaultCount[profile]);
        say(`\n== throughput: ${count} ${profile} alerts`);
        const db = prefilled(profile, count);
        const avg = averageMessage(db);
        say(`  average message: ${avg} bytes (key + value), compression ${compression}`);
        const svc: ServiceRun[] = [];
        const pp: { records_per_s: number; mb_per_s: number }[] = [];
        for (let r = 0; r < repeat; r++) {
          const topic = freshName(`svc-${profile}`);
          const env = benchEnv(db, topic);
          let run: ServiceRun;
          if (values.console) {
            const { result, cost } = await withTopic(base, topic, () => withConsolePage(env, () => runService(env)));
            run = result;
            say(`  run ${r + 1}: console open: ${cost.console_cpu_s.toFixed(1)} s of console CPU, ${cost.rows_pushed} rows pushed to the page`);
          } else {
            run = await withTopic(base, topic, async () => {
              const measured = await runService(env);
              return { ...measured, log_bytes: await topicLogBytes(kafkaClientOptions(base, 'admin'), topic) };
            });
          }
          if (run.alerts !== count) throw new Error(`the service distributed ${run.alerts} of ${count} alerts`);
          svc.push(run);
          const ppTopic = freshName(`pp-${profile}`);
          pp.push(await withTopic(base, ppTopic, () => producerPerformance(libs, ppTopic, count, avg)));
          say(`  run ${r + 1}: service ${(run.alerts / run.seconds).toFixed(0)} alerts/s ${(run.bytes / run.seconds / 1e6).toFixed(1)} MB/s (cpu ${run.cpu_s.toFixed(1)} s, rss ${run.peak_rss_mb.toFixed(0)} MB${run.log_bytes === undefined ? '' : `, on disk ${(run.log_bytes / run.alerts).toFixed(0)} bytes an alert, ${(run.bytes / run.log_bytes).toFixed(2)}x smaller than sent`}) | ProducerPerformance ${pp[r]!.records_per_s.toFixed(0)} records/s ${pp[r]!.mb_per_s.toFixed(1)} MB/s`);
        }
        const distribution = {
          alerts_per_s: median(svc.map((s) => s.alerts / s.seconds)),
          mb_per_s: median(svc.map((s) => s.bytes / s.seconds / 1e6)),
          cpu_s: median(svc.map((s) => s.cpu_s)),
          peak_rss_mb: median(svc.map((s) => s.peak_rss_mb)),
          ...(svc[0]!.log_bytes === undefined ? {} : { log_bytes_per_alert: median(svc.map((s) => s.log_bytes! / s.alerts)) }),
        };
        const producer_performance = { records_per_s: median(pp.map((p) => p.records_per_s)), mb_per_s: median(pp.map((p) => p.mb_per_s)) };
        const result = {
          profile, count, avg_message_bytes: avg, distribution, producer_performance,
          ratio_mb: distribution.mb_per_s / producer_performance.mb_per_s,
          ratio_records: distribution.alerts_per_s / producer_performance.records_per_s,
        };
        byProfile[profile] = result;
        if (report.profile === undefined) Object.assign(report, result);
        table.push([`${profile}, ${count} alerts`, `${distribution.alerts_per_s.toFixed(0)} alerts/s, ${distribution.mb_per_s.toFixed(1)} MB/s`, `${producer_performance.records_per_s.toFixed(0)} rec/s, ${producer_performance.mb_per_s.toFixed(1)} MB/s`, `ratio_mb ${result.ratio_mb.toFixed(2)}, ratio_records ${result.ratio_records.toFixed(2)}`]);
      }
      report.profiles = byProfile;
    }

    if (cases.has('burst')) {
      const count = 10_000;
      say(`\n== burst: ${count} ztf alerts ingested at once while the service runs`);
      const runs: number[] = [];
      for (let r = 0; r < repeat; r++) {
        const db = join(benchDir, `burst-${r}`);
        rmSync(db, { recursive: true, force: true });
        const topic = freshName('burst');
        const seconds = await withTopic(base, topic, async () => {
          const env = benchEnv(db, topic);
          const alerts = Array.from({ length: count }, ((sim) => () => sim.next())(createSimulation({ profile: 'ztf', seed: 100 + r, night: '20261126' })));
          // The database exists before the service starts, as a night's store would.
          new ScienceWriter(db).close();
          const service = await continuousService(env);
          try {
            const consumed = consumeUntil(loadConfig({ env }), topic, count, () => {}, 120_000);
            const t0 = Date.now();
            const writer = new ScienceWriter(db);
            writer.write(alerts);
            writer.close();
            const n = await consumed;
            if (n < count) throw new Error(`only ${n} of ${count} burst alerts arrived; the service said:\n${service.log()}`);
            return (Date.now() - t0) / 1000;
          } finally {
            await service.stop();
          }
        });
        runs.push(seconds);
        say(`  run ${r + 1}: all ${count} decoded by an independent consumer ${seconds.toFixed(2)} s after the burst`);
      }
      report.burst = { alerts: count, seconds_to_all_decoded: median(runs), runs };
      table.push([`burst of ${count} ztf alerts`, `all decoded in ${median(runs).toFixed(2)} s`, '', 'target <= 10 s']);
    }

    if (cases.has('latency')) {
      const seconds = Number(values['latency-seconds']);
      const rate = 1000;
      say(`\n== latency: ztf alerts ingested at ${rate}/s for ${seconds} s while the service runs`);
      const p50s: number[] = [];
      const p99s: number[] = [];
      for (let r = 0; r < repeat; r++) {
        const db = join(benchDir, `latency-${r}`);
        rmSync(db, { recursive: true, force: true });
        new ScienceWriter(db).close();
        const topic = freshName('latency');
        const decodedAt = new Map<bigint, number>();
        await withTopic(base, topic, async () => {
          const env = benchEnv(db, topic);
          const service = await continuousService(env);
          try {
            const total = rate * seconds;
            const consumed = consumeUntil(loadConfig({ env }), topic, total, (candid, at) => decodedAt.set(candid, at), (seconds + 120) * 1000);
            // A process of its own, so that the consumer here decodes while alerts arrive.
            const ingest = spawn(node, [join(root, 'bench', 'ingest-at-rate.ts'), db, String(rate), String(seconds), 'ztf', String(200 + r)], { stdio: ['ignore', 'ignore', 'inherit'] });
            const ingested = new Promise<number | null>((resolve) => ingest.on('exit', resolve));
            const n = await consumed;
            if ((await ingested) !== 0) throw new Error('the steady ingest failed');
            if (n < total) throw new Error(`only ${n} of ${total} alerts arrived; the service said:\n${service.log()}`);
          } finally {
            await service.stop();
          }
        });
        const reader = openReader(db);
        const latencies: number[] = [];
        let checkpoint = {};
        for (;;) {
          const { alerts, checkpoint: next } = reader.read(checkpoint, 5000);
          if (alerts.length === 0) break;
          for (const a of alerts) latencies.push(decodedAt.get(a.alertId)! - a.ingestedMs);
          checkpoint = next;
        }
        reader.close();
        latencies.sort((a, b) => a - b);
        const p50 = latencies[Math.floor(latencies.length * 0.5)]! / 1000;
        const p99 = latencies[Math.floor(latencies.length * 0.99)]! / 1000;
        p50s.push(p50);
        p99s.push(p99);
        say(`  run ${r + 1}: ${latencies.length} alerts, ingest to decode p50 ${p50.toFixed(3)} s, p99 ${p99.toFixed(3)} s, max ${(latencies.at(-1)! / 1000).toFixed(3)} s`);
      }
      report.latency = { rate, seconds, p50_s: median(p50s), p99_s: median(p99s) };
      table.push([`${rate} ztf alerts/s for ${seconds} s`, `p50 ${median(p50s).toFixed(3)} s, p99 ${median(p99s).toFixed(3)} s`, '', 'target p99 <= 1 s']);
    }

    if (cases.has('memory')) {
      const count = Number(values['backlog-count']);
      const backlogProfile = values['backlog-profile'] as BenchProfile;
      if (!BENCH_PROFILES.includes(backlogProfile)) throw new Error(`--backlog-profile is one of ${BENCH_PROFILES.join(', ')}, got '${backlogProfile}'`);
      say(`\n== memory: a backlog of ${count} ${backlogProfile} alerts`);
      const db = prefilled(backlogProfile, count);
      const runs: { peak: number; quarters: number[]; rate: number }[] = [];
      for (let r = 0; r < repeat; r++) {
        const topic = freshName('backlog');
        const samples: number[] = [];
        const run = await withTopic(base, topic, async () => {
          let pid = 0;
          const sampler = setInterval(() => {
            try {
              samples.push(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024);
            } catch {
              // not started or already gone
            }
          }, 250);
          try {
            return await runService(benchEnv(db, topic), (p) => (pid = p));
          } finally {
            clearInterval(sampler);
          }
        }, BACKLOG_TOPIC_CONFIGS);
        // Mean RSS in each quarter of the run: flat when memory does not grow with the backlog.
        const quarters = [0, 1, 2, 3].map((q) => {
          const part = samples.slice(Math.floor((samples.length * q) / 4), Math.floor((samples.length * (q + 1)) / 4));
          return Math.round(part.reduce((s, x) => s + x, 0) / Math.max(1, part.length));
        });
        runs.push({ peak: run.peak_rss_mb, quarters, rate: run.alerts / run.seconds });
        say(`  run ${r + 1}: ${run.alerts} alerts in ${run.seconds.toFixed(1)} s (${(run.alerts / run.seconds).toFixed(0)} alerts/s); peak RSS ${run.peak_rss_mb.toFixed(0)} MB; mean RSS by quarter of the run ${quarters.join(', ')} MB`);
      }
      const mid = runs.map((r) => r.peak).indexOf(median(runs.map((r) => r.peak)));
      report.memory = { backlog: count, profile: backlogProfile, peak_rss_mb: runs[mid]!.peak, rss_by_quarter_mb: runs[mid]!.quarters, alerts_per_s: runs[mid]!.rate, peaks_mb: runs.map((r) => Math.round(r.peak)) };
      table.push([`backlog of ${count} ${backlogProfile}`, `peak RSS ${runs[mid]!.peak.toFixed(0)} MB (runs: ${runs.map((r) => r.peak.toFixed(0)).join(', ')})`, `RSS by quarter ${runs[mid]!.quarters.join('/')} MB`, 'target <= 300 MB, flat']);
    }
    if (cases.has('upstream')) {
      const alerts = Number(values['upstream-alerts']);
      const upstreamProfile = values['upstream-profile'] as 'lsst' | 'lsst-light';
      if (upstreamProfile !== 'lsst' && upstreamProfile !== 'lsst-light') throw new Error(`--upstream-profile is lsst or lsst-light, got '${upstreamProfile}'`);
      const interval = Number(values['upstream-interval']);
      say(`\n== upstream: ${alerts} ${upstreamProfile} alerts replayed on the simulator cluster, a visit every ${interval} s -> stream2science -> distribution -> consumer`);
      const runs: UpstreamRun[] = [];
      for (let r = 0; r < repeat; r++) {
        const topic = freshName('upstream');
        const run = await withTopic(base, topic, () => upstreamCase({ root, base, distributionEnv: benchEnv(join(benchDir, 'unused'), topic), communityTopic: topic, profile: upstreamProfile, alerts, visitInterval: interval, workDir: join(benchDir, 'upstream'), say }));
        runs.push(run);
        say(`  run ${r + 1}: ${run.alerts} alerts in ${run.visits} visits; upstream to community p50 ${run.p50_s.toFixed(3)} s, p99 ${run.p99_s.toFixed(3)} s, max ${run.max_s.toFixed(3)} s; ${run.alerts_per_s.toFixed(0)} alerts/s end to end; CPU stream2science ${run.stream2science_cpu_s.toFixed(1)} s, distribution ${run.distribution_cpu_s.toFixed(1)} s`);
      }
      const mid = runs.map((r) => r.p99_s).indexOf(median(runs.map((r) => r.p99_s)));
      report.upstream = { profile: upstreamProfile, interval_s: interval, ...runs[mid]!, p99s_s: runs.map((r) => r.p99_s) };
      table.push([`upstream ${upstreamProfile}: ${alerts} alerts, a visit every ${interval} s`, `p50 ${runs[mid]!.p50_s.toFixed(3)} s, p99 ${runs[mid]!.p99_s.toFixed(3)} s, ${runs[mid]!.alerts_per_s.toFixed(0)} alerts/s`, '', 'target p99 < 2 s']);
    }
  } finally {
    if (!started.alreadyRunning) {
      await stopCluster(cluster);
      say('stopped the cluster the benchmark started');
    }
  }

  say('\n| case | fink-distribution | ProducerPerformance | ratio / target |\n|---|---|---|---|');
  for (const row of table) say(`| ${row.join(' | ')} |`);
  if (values.json !== undefined) {
    mkdirSync(dirname(values.json), { recursive: true });
    writeFileSync(values.json, JSON.stringify(report, null, 2) + '\n');
    say(`\nwrote ${values.json}`);
  }
}

await main();
