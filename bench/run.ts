// `npm run bench -- [--profile ztf|ztf-light|lsst|lsst-light|...] [--count N] [--repeat R] [--cases LIST] [--compression C] [--json FILE] [--console] [--backlog-count N] [--backlog-profile P] [--upstream-alerts N] [--upstream-profile lsst|lsst-light] [--upstream-interval S] [--upstream-store sqlite|kafka] [--instances 1,2,3] [--scale-profiles lsst,ztf-light] [--visits V] [--visit-alerts N] [--visit-instances I] [--visit-transactions T] [--cpu-prof DIR] [--user-filters 0,100] [--user-filter-conditions rare|common|silent] [--user-filter-sending N] [--community-topics none|all] [--format fink,confluent]`
//
// The distribution measured against the ceiling of the same broker on the same machine, in one run:
// Kafka's own ProducerPerformance (acks=all, lz4, records of the service's average message size,
// the same count, a fresh topic with the same partitions) side by side with the service
// distributing a science database pre-filled by the simulator into a fresh topic. Then a burst of
// 10,000 ztf alerts, the latency at a steady 1,000 alerts/s, and the memory of a 1,000,000-alert
// backlog, and the live chain at Rubin's rate (bench/upstream.ts: simulator -> stream2science ->
// distribution; the simulator's visits are 1,000 alerts, so one every 4 s is Rubin's 10,000 every
// 40 s; --upstream-store kafka: stream2science writes into a fresh science log instead of a SQLite
// database, and the distribution reads it as a group of one). Each measurement is repeated (median of R runs). With --console, the throughput case runs
// with `fink start console` and a headless Chromium on its page (bench/with-console.ts). Not run
// unless named in --cases: `scale` (the science log distributed by 1, 2, 3 instances of a group,
// the CPU an alert against one instance's; --count sets the alerts of each profile) and `visit`
// (a 10,000-alert Rubin visit landing at once in the log, p50/p99 over visits), bench/scale.ts.
// --cpu-prof DIR: in the scale case, the first instance of each run and the one over an empty log
// are profiled (`node --cpu-prof`, a .cpuprofile each in DIR), for where an instance's CPU goes.
// --user-filters 0,100: the throughput case runs once per count of registered user filters (issue
// 23; bench/user-filters.ts): random selective conditions of the profile's survey registered before
// the service starts, the runs of the counts interleaved (0, 100, 0, 100, ...), and the service's
// CPU per alert of each count against none's (target <= 1.10x), with the messages the user topics
// got and the ratio against ProducerPerformance. Without --cases, only the throughput case runs.
// --user-filter-conditions: rare (the default: each keeps a few alerts in a thousand, as users'
// streams do), common (a few per cent each: 100 of them send several messages an alert) or silent
// (the rare ones, each ANDed with a clause no alert meets: their cost apart from their messages).
// --user-filter-sending N: of the registered filters only the first N may match, the others are
// made silent as with `silent`: what the filters send varies while how many are evaluated does not
// (issue 23: the ratio against what the filters send). Default: all of them.
// --community-topics: the shipped topics the measured service fills beside the test topic in that
// case (DISTRIBUTION_TOPICS): none (the default, the test topic only, as the throughput case) or all
// (every shipped filter's topic of the survey, as a deployment fills them by default), under a
// prefix of the run's own, deleted after.
// --format fink,confluent: the throughput case runs once per wire format (issue 24; bench/formats.ts),
// the formats interleaved, the confluent runs registering in a schema registry started for the case
// (a free loopback port, its files under var/bench/registry, stopped after); ProducerPerformance
// gets records of each format's average message size; reported for each profile and format: the
// service's alerts/s and MB/s, the ratio to ProducerPerformance, the CPU an alert and the bytes a
// message (sent, and on the brokers' disk). Without --cases, only the throughput case runs.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/config.ts';
import { startCluster, stopCluster } from '../src/cluster/cluster.ts';
import { ensureKafkaJars } from '../src/cluster/provision.ts';
import { clusterSettings } from '../src/cluster/settings.ts';
import { topicLogBytes } from '../src/kafka/topics.ts';
import { openReader } from '../src/sciencedb/reader.ts';
import { createSimulation } from '../src/sciencedb/simulate.ts';
import { COMPRESSIONS, type Compression } from '../src/kafka/transactional-producer.ts';
import { ScienceWriter } from '../src/sciencedb/store.ts';
import { kafkaClientOptions } from '../src/kafka/client-options.ts';
import { withConsolePage } from './with-console.ts';
import { upstreamCase, type UpstreamRun } from './upstream.ts';
import { dropLog, prepareLog, scaleCase } from './scale.ts';
import { parseInstances } from './scale-figures.ts';
import { visitCase } from './visit.ts';
import { CONDITION_KINDS, userFiltersCase, type ConditionKind } from './user-filters.ts';
import { parseFilterCounts } from './user-filter-figures.ts';
import { formatsCase } from './formats.ts';
import { parseFormats } from './format-figures.ts';
import {
  averageMessage, BENCH_PROFILES, benchDir, benchEnv, consumeUntil, continuousService, median, nameMaker, node, prefilled,
  producerPerformance, root, runService, say, storedAlerts, withTopic,
  type Bench, type BenchProfile, type CaseResult, type PerformanceRun, type ServiceRun,
} from './harness.ts';

const defaultCount: Record<BenchProfile, number> = { ztf: 20_000, 'ztf-light': 100_000, lsst: 10_000, 'lsst-light': 100_000 };
// The scale case runs each profile once per instance count and repeat: smaller, so that 1, 2 and 3
// instances of both profiles take minutes on two cores.
const scaleCount: Record<BenchProfile, number> = { ztf: 5_000, 'ztf-light': 20_000, lsst: 5_000, 'lsst-light': 20_000 };
// The backlog's topic keeps 1 GiB a partition, so that a backlog larger than the free disk (200,000
// Rubin alerts are 32 GB) can be sent: the memory case measures the service, not the broker's disk.
const BACKLOG_TOPIC_CONFIGS = { 'retention.bytes': String(1 << 30), 'segment.bytes': String(256 << 20) };

const DEFAULT_CASES = 'throughput,burst,latency,memory,upstream';

type Flags = ReturnType<typeof parseFlags>;

function parseFlags() {
  const { values } = parseArgs({
    options: {
      profile: { type: 'string', default: 'ztf,ztf-light' },
      compression: { type: 'string', default: 'lz4' },
      count: { type: 'string' },
      repeat: { type: 'string', default: '3' },
      cases: { type: 'string' },
      'user-filters': { type: 'string' },
      'user-filter-conditions': { type: 'string', default: 'rare' },
      'user-filter-sending': { type: 'string' },
      'community-topics': { type: 'string', default: 'none' },
      format: { type: 'string' },
      json: { type: 'string' },
      'latency-seconds': { type: 'string', default: '60' },
      'backlog-count': { type: 'string', default: '1000000' },
      'backlog-profile': { type: 'string', default: 'ztf-light' },
      'upstream-alerts': { type: 'string', default: '10000' },
      'upstream-profile': { type: 'string', default: 'lsst' },
      'upstream-interval': { type: 'string', default: '4' },
      'upstream-store': { type: 'string', default: 'sqlite' },
      console: { type: 'boolean', default: false },
      instances: { type: 'string', default: '1,2,3' },
      'scale-profiles': { type: 'string', default: 'lsst,ztf-light' },
      visits: { type: 'string', default: '5' },
      'visit-alerts': { type: 'string', default: '10000' },
      'visit-instances': { type: 'string', default: '2' },
      'visit-transactions': { type: 'string', default: '4' },
      'cpu-prof': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  return values;
}

/** The median over `bench.repeat` runs of one profile: the service against ProducerPerformance. */
async function throughputOfProfile(bench: Bench, profile: BenchProfile, count: number, withConsole: boolean) {
  say(`\n== throughput: ${count} ${profile} alerts`);
  const db = prefilled(profile, count);
  const avg = averageMessage(db);
  say(`  average message: ${avg} bytes (key + value), compression ${bench.compression}`);
  const svc: ServiceRun[] = [];
  const pp: PerformanceRun[] = [];
  for (let r = 0; r < bench.repeat; r++) {
    const topic = bench.freshName(`svc-${profile}`);
    const env = benchEnv(bench, db, topic);
    let run: ServiceRun;
    if (withConsole) {
      const { result, cost } = await withTopic(bench, topic, () => withConsolePage(env, () => runService(env)));
      run = result;
      say(`  run ${r + 1}: console open: ${cost.console_cpu_s.toFixed(1)} s of console CPU, ${cost.rows_pushed} rows pushed to the page`);
    } else {
      run = await withTopic(bench, topic, async () => {
        const measured = await runService(env);
        return { ...measured, log_bytes: await topicLogBytes(kafkaClientOptions(bench.base, 'admin'), topic) };
      });
    }
    if (run.alerts !== count) throw new Error(`the service distributed ${run.alerts} of ${count} alerts`);
    svc.push(run);
    const ppTopic = bench.freshName(`pp-${profile}`);
    pp.push(await withTopic(bench, ppTopic, () => producerPerformance(bench, ppTopic, count, avg)));
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
  return {
    profile, count, avg_message_bytes: avg, distribution, producer_performance,
    ratio_mb: distribution.mb_per_s / producer_performance.mb_per_s,
    ratio_records: distribution.alerts_per_s / producer_performance.records_per_s,
  };
}

/** Every profile in turn; the report carries the first one's figures at its top and all under `profiles`. */
async function throughputCase(bench: Bench, profiles: readonly BenchProfile[], countFlag: string | undefined, withConsole: boolean): Promise<CaseResult> {
  const byProfile: Record<string, Awaited<ReturnType<typeof throughputOfProfile>>> = {};
  const rows: string[][] = [];
  for (const profile of profiles) {
    const result = await throughputOfProfile(bench, profile, Number(countFlag ?? defaultCount[profile]), withConsole);
    const { count, distribution, producer_performance } = result;
    byProfile[profile] = result;
    rows.push([`${profile}, ${count} alerts`, `${distribution.alerts_per_s.toFixed(0)} alerts/s, ${distribution.mb_per_s.toFixed(1)} MB/s`, `${producer_performance.records_per_s.toFixed(0)} rec/s, ${producer_performance.mb_per_s.toFixed(1)} MB/s`, `ratio_mb ${result.ratio_mb.toFixed(2)}, ratio_records ${result.ratio_records.toFixed(2)}`]);
  }
  return { report: { ...byProfile[profiles[0]!], profiles: byProfile }, rows };
}

/** Seconds from a burst written at once into a database the service follows to its last alert decoded. */
async function burstRun(bench: Bench, r: number, count: number): Promise<number> {
  const db = join(benchDir, `burst-${r}`);
  rmSync(db, { recursive: true, force: true });
  const topic = bench.freshName('burst');
  return withTopic(bench, topic, async () => {
    const env = benchEnv(bench, db, topic);
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
}

async function burstCase(bench: Bench): Promise<CaseResult> {
  const count = 10_000;
  say(`\n== burst: ${count} ztf alerts ingested at once while the service runs`);
  const runs: number[] = [];
  for (let r = 0; r < bench.repeat; r++) {
    const seconds = await burstRun(bench, r, count);
    runs.push(seconds);
    say(`  run ${r + 1}: all ${count} decoded by an independent consumer ${seconds.toFixed(2)} s after the burst`);
  }
  return {
    report: { burst: { alerts: count, seconds_to_all_decoded: median(runs), runs } },
    rows: [[`burst of ${count} ztf alerts`, `all decoded in ${median(runs).toFixed(2)} s`, '', 'target <= 10 s']],
  };
}

/** Milliseconds from ingest to decode of every alert of a database, sorted. */
function sortedLatencies(db: string, decodedAt: ReadonlyMap<bigint, number>): number[] {
  const reader = openReader(db);
  const latencies: number[] = [];
  for (const a of storedAlerts(reader)) latencies.push(decodedAt.get(a.alertId)! - a.ingestedMs);
  reader.close();
  return latencies.sort((a, b) => a - b);
}

/** One steady ingest at `rate` for `seconds` while the service runs: when each alert was decoded. */
async function latencyRun(bench: Bench, r: number, rate: number, seconds: number): Promise<{ db: string; decodedAt: Map<bigint, number> }> {
  const db = join(benchDir, `latency-${r}`);
  rmSync(db, { recursive: true, force: true });
  new ScienceWriter(db).close();
  const topic = bench.freshName('latency');
  const decodedAt = new Map<bigint, number>();
  await withTopic(bench, topic, async () => {
    const env = benchEnv(bench, db, topic);
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
  return { db, decodedAt };
}

async function latencyCase(bench: Bench, seconds: number): Promise<CaseResult> {
  const rate = 1000;
  say(`\n== latency: ztf alerts ingested at ${rate}/s for ${seconds} s while the service runs`);
  const p50s: number[] = [];
  const p99s: number[] = [];
  for (let r = 0; r < bench.repeat; r++) {
    const { db, decodedAt } = await latencyRun(bench, r, rate, seconds);
    const latencies = sortedLatencies(db, decodedAt);
    const p50 = latencies[Math.floor(latencies.length * 0.5)]! / 1000;
    const p99 = latencies[Math.floor(latencies.length * 0.99)]! / 1000;
    p50s.push(p50);
    p99s.push(p99);
    say(`  run ${r + 1}: ${latencies.length} alerts, ingest to decode p50 ${p50.toFixed(3)} s, p99 ${p99.toFixed(3)} s, max ${(latencies.at(-1)! / 1000).toFixed(3)} s`);
  }
  return {
    report: { latency: { rate, seconds, p50_s: median(p50s), p99_s: median(p99s) } },
    rows: [[`${rate} ztf alerts/s for ${seconds} s`, `p50 ${median(p50s).toFixed(3)} s, p99 ${median(p99s).toFixed(3)} s`, '', 'target p99 <= 1 s']],
  };
}

/** One service run over the backlog, its RSS sampled every 250 ms. */
async function backlogRun(bench: Bench, db: string): Promise<{ run: ServiceRun; samples: number[] }> {
  const topic = bench.freshName('backlog');
  const samples: number[] = [];
  const run = await withTopic(bench, topic, async () => {
    let pid = 0;
    const sampler = setInterval(() => {
      try {
        samples.push(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024);
      } catch {
        // not started or already gone
      }
    }, 250);
    try {
      return await runService(benchEnv(bench, db, topic), (p) => (pid = p));
    } finally {
      clearInterval(sampler);
    }
  }, BACKLOG_TOPIC_CONFIGS);
  return { run, samples };
}

async function memoryCase(bench: Bench, count: number, backlogProfile: BenchProfile): Promise<CaseResult> {
  if (!BENCH_PROFILES.includes(backlogProfile)) throw new Error(`--backlog-profile is one of ${BENCH_PROFILES.join(', ')}, got '${backlogProfile}'`);
  say(`\n== memory: a backlog of ${count} ${backlogProfile} alerts`);
  const db = prefilled(backlogProfile, count);
  const runs: { peak: number; quarters: number[]; rate: number }[] = [];
  for (let r = 0; r < bench.repeat; r++) {
    const { run, samples } = await backlogRun(bench, db);
    // Mean RSS in each quarter of the run: flat when memory does not grow with the backlog.
    const quarters = [0, 1, 2, 3].map((q) => {
      const part = samples.slice(Math.floor((samples.length * q) / 4), Math.floor((samples.length * (q + 1)) / 4));
      return Math.round(part.reduce((s, x) => s + x, 0) / Math.max(1, part.length));
    });
    runs.push({ peak: run.peak_rss_mb, quarters, rate: run.alerts / run.seconds });
    say(`  run ${r + 1}: ${run.alerts} alerts in ${run.seconds.toFixed(1)} s (${(run.alerts / run.seconds).toFixed(0)} alerts/s); peak RSS ${run.peak_rss_mb.toFixed(0)} MB; mean RSS by quarter of the run ${quarters.join(', ')} MB`);
  }
  const mid = runs.map((r) => r.peak).indexOf(median(runs.map((r) => r.peak)));
  return {
    report: { memory: { backlog: count, profile: backlogProfile, peak_rss_mb: runs[mid]!.peak, rss_by_quarter_mb: runs[mid]!.quarters, alerts_per_s: runs[mid]!.rate, peaks_mb: runs.map((r) => Math.round(r.peak)) } },
    rows: [[`backlog of ${count} ${backlogProfile}`, `peak RSS ${runs[mid]!.peak.toFixed(0)} MB (runs: ${runs.map((r) => r.peak.toFixed(0)).join(', ')})`, `RSS by quarter ${runs[mid]!.quarters.join('/')} MB`, 'target <= 300 MB, flat']],
  };
}

async function liveChainCase(bench: Bench, alerts: number, upstreamProfile: string, interval: number, store: string): Promise<CaseResult> {
  if (upstreamProfile !== 'lsst' && upstreamProfile !== 'lsst-light') throw new Error(`--upstream-profile is lsst or lsst-light, got '${upstreamProfile}'`);
  if (store !== 'sqlite' && store !== 'kafka') throw new Error(`--upstream-store is sqlite or kafka, got '${store}'`);
  say(`\n== upstream: ${alerts} ${upstreamProfile} alerts replayed on the simulator cluster, a visit every ${interval} s -> stream2science (into ${store === 'sqlite' ? 'a SQLite science database' : 'the science log'}) -> distribution -> consumer`);
  const runs: UpstreamRun[] = [];
  for (let r = 0; r < bench.repeat; r++) {
    const topic = bench.freshName('upstream');
    // A science log of its own each run (its topics made first, as a night's log would have them), removed after.
    const logPrefix = `${bench.freshName('upstream-log')}_`;
    if (store === 'kafka') await prepareLog(bench, logPrefix);
    let run: UpstreamRun;
    try {
      run = await withTopic(bench, topic, () => upstreamCase({ root, base: bench.base, distributionEnv: benchEnv(bench, join(benchDir, 'unused'), topic), communityTopic: topic, profile: upstreamProfile, alerts, visitInterval: interval, workDir: join(benchDir, 'upstream'), say, store, logPrefix }));
    } finally {
      if (store === 'kafka') await dropLog(bench, logPrefix, [`${logPrefix}positions`]);
    }
    runs.push(run);
    say(`  run ${r + 1}: ${run.alerts} alerts in ${run.visits} visits; upstream to community p50 ${run.p50_s.toFixed(3)} s, p99 ${run.p99_s.toFixed(3)} s, max ${run.max_s.toFixed(3)} s; ${run.alerts_per_s.toFixed(0)} alerts/s end to end; CPU stream2science ${run.stream2science_cpu_s.toFixed(1)} s, distribution ${run.distribution_cpu_s.toFixed(1)} s (${run.stream2science_cpu_ms_per_alert.toFixed(2)} and ${run.distribution_cpu_ms_per_alert.toFixed(2)} ms an alert); stream2science peak RSS ${run.stream2science_peak_rss_mb.toFixed(0)} MB`);
  }
  const mid = runs.map((r) => r.p99_s).indexOf(median(runs.map((r) => r.p99_s)));
  return {
    report: { upstream: { profile: upstreamProfile, store, interval_s: interval, ...runs[mid]!, p99s_s: runs.map((r) => r.p99_s), stream2science_cpu_ms_per_alert_runs: runs.map((r) => r.stream2science_cpu_ms_per_alert), distribution_cpu_ms_per_alert_runs: runs.map((r) => r.distribution_cpu_ms_per_alert) } },
    rows: [[`upstream ${upstreamProfile} (${store}): ${alerts} alerts, a visit every ${interval} s`, `p50 ${runs[mid]!.p50_s.toFixed(3)} s, p99 ${runs[mid]!.p99_s.toFixed(3)} s, ${runs[mid]!.alerts_per_s.toFixed(0)} alerts/s`, '', 'target p99 < 2 s']],
  };
}

/** The selected cases, in their fixed order, each given the run's settings. */
function selectedCases(flags: Flags, profiles: readonly BenchProfile[]): ((bench: Bench) => Promise<CaseResult>)[] {
  const cases = new Set((flags.cases ?? (flags['user-filters'] === undefined && flags.format === undefined ? DEFAULT_CASES : 'throughput')).split(','));
  const all: [string, (bench: Bench) => Promise<CaseResult>][] = [
    ['throughput', throughputVariant(flags, profiles)],
    ['burst', burstCase],
    ['latency', (bench) => latencyCase(bench, Number(flags['latency-seconds']))],
    ['memory', (bench) => memoryCase(bench, Number(flags['backlog-count']), flags['backlog-profile'] as BenchProfile)],
    ['upstream', (bench) => liveChainCase(bench, Number(flags['upstream-alerts']), flags['upstream-profile'], Number(flags['upstream-interval']), flags['upstream-store'])],
    ['scale', (bench) => scaleCase(bench, { profiles: scaleProfiles(flags), instances: parseInstances(flags.instances, bench.base.int('SCIENCE_PARTITIONS')), count: (p) => Number(flags.count ?? scaleCount[p]), cpuProfDir: flags['cpu-prof'] })],
    ['visit', (bench) => visitCase(bench, { visits: positive('visits', flags.visits), alerts: positive('visit-alerts', flags['visit-alerts']), instances: positive('visit-instances', flags['visit-instances']), transactions: positive('visit-transactions', flags['visit-transactions']) })],
  ];
  return all.filter(([name]) => cases.has(name)).map(([, run]) => run);
}

/** The throughput case: plain, once per count of user filters (--user-filters), or once per wire format (--format). */
function throughputVariant(flags: Flags, profiles: readonly BenchProfile[]): (bench: Bench) => Promise<CaseResult> {
  const count = (p: BenchProfile) => Number(flags.count ?? defaultCount[p]);
  if (flags['user-filters'] !== undefined && flags.format !== undefined) throw new Error('--user-filters and --format are two variants of the throughput case: give one');
  if (flags['user-filters'] === undefined && flags['user-filter-sending'] !== undefined) throw new Error('--user-filter-sending goes with --user-filters');
  if (flags['user-filters'] !== undefined) {
    const counts = parseFilterCounts(flags['user-filters']);
    const conditions = conditionKind(flags['user-filter-conditions']);
    const community = flags['community-topics'];
    if (community !== 'none' && community !== 'all') throw new Error(`--community-topics is none or all, got '${community}'`);
    const sending = flags['user-filter-sending'] === undefined ? null : wholeNumber('user-filter-sending', flags['user-filter-sending']);
    if (sending !== null && sending > 0 && conditions === 'silent') throw new Error('--user-filter-sending is for rare or common conditions: silent ones send nothing');
    return (bench) => userFiltersCase(bench, { profiles, counts, count, conditions, sending, community });
  }
  if (flags.format !== undefined) {
    const formats = parseFormats(flags.format);
    return (bench) => formatsCase(bench, { profiles, formats, count });
  }
  return (bench) => throughputCase(bench, profiles, flags.count, flags.console);
}

function conditionKind(value: string): ConditionKind {
  if (!(CONDITION_KINDS as readonly string[]).includes(value)) throw new Error(`--user-filter-conditions is one of ${CONDITION_KINDS.join(', ')}, got '${value}'`);
  return value as ConditionKind;
}

function wholeNumber(flag: string, value: string): number {
  if (!/^\d+$/.test(value)) throw new Error(`--${flag} is a whole number (0 or more), got '${value}'`);
  return Number(value);
}

function positive(flag: string, value: string): number {
  if (!/^[1-9]\d*$/.test(value)) throw new Error(`--${flag} is a whole number of at least 1, got '${value}'`);
  return Number(value);
}

function scaleProfiles(flags: Flags): BenchProfile[] {
  const profiles = flags['scale-profiles'].split(',') as BenchProfile[];
  for (const p of profiles) if (!BENCH_PROFILES.includes(p)) throw new Error(`--scale-profiles is a comma-separated list of ${BENCH_PROFILES.join(', ')}, got '${p}'`);
  return profiles;
}

function printHelp(): void {
  process.stdout.write(readFileSync(new URL(import.meta.url), 'utf8').split('\n').filter((l, i, all) => all.slice(0, i + 1).every((x) => x.startsWith('//'))).map((l) => l.replace(/^\/\/ ?/, '')).join('\n') + '\n');
}

/** The command line checked whole before a cluster is started: a wrong option costs nothing. */
function settings() {
  const flags = parseFlags();
  const profiles = flags.profile.split(',') as BenchProfile[];
  for (const p of profiles) if (!BENCH_PROFILES.includes(p)) throw new Error(`--profile is a comma-separated list of ${BENCH_PROFILES.join(', ')}, got '${p}'`);
  const compression = flags.compression as Compression;
  if (!COMPRESSIONS.includes(compression)) throw new Error(`--compression is one of ${COMPRESSIONS.join(', ')}, got '${flags.compression}'`);
  const repeat = positive('repeat', flags.repeat);
  return { flags, compression, repeat, cases: flags.help === true ? [] : selectedCases(flags, profiles) };
}

async function main(): Promise<void> {
  let checked: ReturnType<typeof settings>;
  try {
    checked = settings();
  } catch (error) {
    process.stderr.write(`npm run bench: ${(error as Error).message} (--help lists the options)\n`);
    process.exitCode = 2;
    return;
  }
  const { flags, compression, repeat, cases } = checked;
  if (flags.help === true) return printHelp();
  mkdirSync(benchDir, { recursive: true });
  const base = loadConfig({});
  const partitions = base.int('DISTRIBUTION_PARTITIONS');
  const bootstrap = base.list('DISTRIBUTION_SERVERS').join(',');

  say(`fink-distribution benchmark: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${repeat} runs per measurement (median)`);
  const cluster = clusterSettings(base, 'distribution');
  const libs = ensureKafkaJars(cluster, say);
  const started = await startCluster(cluster, say);
  const bench: Bench = { base, partitions, bootstrap, compression, repeat, libs, freshName: nameMaker(), brokerPids: started.pids };
  say(started.alreadyRunning ? `using the running cluster at ${bootstrap}` : `started the managed cluster at ${bootstrap}`);
  const report: Record<string, unknown> = {};
  const table: string[][] = [];
  try {
    for (const run of cases) {
      const result = await run(bench);
      Object.assign(report, result.report);
      table.push(...result.rows);
    }
  } finally {
    if (!started.alreadyRunning) {
      await stopCluster(cluster);
      say('stopped the cluster the benchmark started');
    }
  }

  say('\n| case | fink-distribution | ProducerPerformance | ratio / target |\n|---|---|---|---|');
  for (const row of table) say(`| ${row.join(' | ')} |`);
  if (flags.json !== undefined) {
    mkdirSync(dirname(flags.json), { recursive: true });
    writeFileSync(flags.json, JSON.stringify(report, null, 2) + '\n');
    say(`\nwrote ${flags.json}`);
  }
}

await main();
