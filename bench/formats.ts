// The wire-format case of bench/run.ts (`--format fink,confluent`, issue 24): the throughput case
// once per format, the formats interleaved within each repeat (fink, confluent, fink, ...) so that
// the machine's load drifting over the measurement hits both alike, each run followed by
// ProducerPerformance with records of that format's average message size. The confluent runs
// register their schemas in a managed registry started for the case (the bench cluster's own
// build, on a free loopback port, its files under var/bench/registry, stopped after): a fresh
// topic each run is a fresh subject, so every run pays its registration as a night's first does.
import { createServer } from 'node:net';
import { join } from 'node:path';
import { clusterSettings } from '../src/cluster/settings.ts';
import { startManagedRegistry, stopManagedRegistry } from '../src/cluster/managed-registry.ts';
import { CCOMPAT_PATH } from '../src/cluster/registry.ts';
import { topicLogBytes } from '../src/kafka/topics.ts';
import { kafkaClientOptions } from '../src/kafka/client-options.ts';
import { openReader } from '../src/sciencedb/reader.ts';
import { WireSchemas } from '../src/distribution/wire.ts';
import {
  benchDir, benchEnv, prefilled, producerPerformance, runService, say, storedAlerts, withTopic,
  type Bench, type BenchProfile, type CaseResult, type PerformanceRun,
} from './harness.ts';
import { formatFigures, messageBytes, type FormatFigures, type FormatRun, type WireFormat } from './format-figures.ts';

export interface FormatsOptions {
  profiles: readonly BenchProfile[];
  formats: readonly WireFormat[];
  count: (profile: BenchProfile) => number;
}

/** The average message (key + value) the service sends for a database's alerts, in each format. */
function averageMessages(dir: string, formats: readonly WireFormat[]): Record<WireFormat, number> {
  const reader = openReader(dir);
  const wire = new WireSchemas((id) => reader.schemaJson(id));
  const totals = { fink: 0, confluent: 0 };
  let n = 0;
  try {
    for (const a of storedAlerts(reader)) {
      const w = wire.forAlert(a);
      const parts = { schemaJsonBytes: w.key.length, objectIdBytes: Buffer.byteLength(a.objectKey), datumBytes: w.encode(a).length };
      for (const f of formats) totals[f] += messageBytes(f, parts);
      n++;
    }
  } finally {
    reader.close();
  }
  return { fink: Math.round(totals.fink / n), confluent: Math.round(totals.confluent / n) };
}

/** A port free on 127.0.0.1 now, for the case's registry. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no free port'))));
    });
  });
}

/** Runs `body` with the URL of a registry of the case's own (Confluent-compatible API), stopped after. */
async function withRegistry<T>(bench: Bench, body: (url: string) => Promise<T>): Promise<T> {
  const own = clusterSettings(bench.base, 'distribution').registry;
  if (own === undefined) throw new Error('the distribution cluster has no managed registry settings');
  const registry = { ...own, host: '127.0.0.1', port: await freePort(), dir: join(benchDir, 'registry') };
  const started = await startManagedRegistry(registry, say);
  say(`  started a schema registry for the confluent runs at ${started.url} (files under ${registry.dir})`);
  try {
    return await body(`${started.url}${CCOMPAT_PATH}`);
  } finally {
    await stopManagedRegistry(registry);
    say('  stopped the confluent runs\' schema registry');
  }
}

/** One service run in `format` into a fresh topic, with what the topic took on the brokers. */
async function serviceRun(bench: Bench, db: string, profile: BenchProfile, format: WireFormat, registryUrl: string | undefined): Promise<FormatRun> {
  const topic = bench.freshName(`svc-${format}-${profile}`);
  const extra: Record<string, string> = format === 'confluent' ? { DISTRIBUTION_FORMAT: 'confluent', DISTRIBUTION_SCHEMA_REGISTRY: registryUrl! } : { DISTRIBUTION_FORMAT: 'fink' };
  return withTopic(bench, topic, async () => {
    const { alerts, messages, bytes, seconds, cpu_s } = await runService(benchEnv(bench, db, topic, extra));
    return { alerts, messages, bytes, seconds, cpu_s, log_bytes: await topicLogBytes(kafkaClientOptions(bench.base, 'admin'), topic) };
  });
}

async function formatsOfProfile(bench: Bench, profile: BenchProfile, formats: readonly WireFormat[], count: number, registryUrl: string | undefined) {
  say(`\n== wire formats: ${count} ${profile} alerts, ${formats.join(' then ')}, interleaved, ${bench.repeat} runs each`);
  const db = prefilled(profile, count);
  const avg = averageMessages(db, formats);
  say(`  average message: ${formats.map((f) => `${f} ${avg[f]} bytes`).join(', ')} (key + value), compression ${bench.compression}`);
  const runs = new Map<WireFormat, FormatRun[]>(formats.map((f) => [f, []]));
  const pp = new Map<WireFormat, PerformanceRun[]>(formats.map((f) => [f, []]));
  for (let r = 0; r < bench.repeat; r++) {
    for (const format of formats) {
      const run = await serviceRun(bench, db, profile, format, registryUrl);
      if (run.alerts !== count) throw new Error(`the service distributed ${run.alerts} of ${count} alerts in ${format} format`);
      runs.get(format)!.push(run);
      const ppTopic = bench.freshName(`pp-${format}-${profile}`);
      const p = await withTopic(bench, ppTopic, () => producerPerformance(bench, ppTopic, count, avg[format]));
      pp.get(format)!.push(p);
      say(`  run ${r + 1}, ${format}: service ${(run.alerts / run.seconds).toFixed(0)} alerts/s ${(run.bytes / run.seconds / 1e6).toFixed(1)} MB/s, ${((run.cpu_s * 1000) / run.alerts).toFixed(3)} ms CPU an alert, ${(run.bytes / run.messages).toFixed(0)} B a message, ${(run.log_bytes / run.alerts).toFixed(0)} B an alert on disk | ProducerPerformance ${p.records_per_s.toFixed(0)} records/s ${p.mb_per_s.toFixed(1)} MB/s`);
    }
  }
  const figures = Object.fromEntries(formats.map((f) => [f, { avg_message_bytes: avg[f], ...formatFigures(runs.get(f)!, pp.get(f)!), producer_performance: pp.get(f)! }]));
  return { profile, count, figures: figures as Record<string, FormatFigures & { avg_message_bytes: number; producer_performance: PerformanceRun[] }>, runs: Object.fromEntries(runs) };
}

function row(profile: BenchProfile, count: number, format: string, f: FormatFigures & { avg_message_bytes: number; producer_performance: PerformanceRun[] }): string[] {
  const pp = [...f.producer_performance].sort((a, b) => a.records_per_s - b.records_per_s)[Math.floor(f.producer_performance.length / 2)]!;
  return [
    `${profile}, ${count} alerts, ${format} (${f.bytes_per_message.toFixed(0)} B a message, ${f.log_bytes_per_alert.toFixed(0)} B on disk)`,
    `${f.alerts_per_s.toFixed(0)} alerts/s, ${f.mb_per_s.toFixed(1)} MB/s, ${f.cpu_per_alert_ms.toFixed(3)} ms CPU an alert`,
    `${pp.records_per_s.toFixed(0)} rec/s, ${pp.mb_per_s.toFixed(1)} MB/s (${f.avg_message_bytes} B records)`,
    `ratio_mb ${f.ratio_mb.toFixed(2)}, ratio_records ${f.ratio_records.toFixed(2)}`,
  ];
}

export async function formatsCase(bench: Bench, options: FormatsOptions): Promise<CaseResult> {
  const all = async (registryUrl: string | undefined): Promise<CaseResult> => {
    const byProfile: Record<string, Awaited<ReturnType<typeof formatsOfProfile>>> = {};
    const rows: string[][] = [];
    for (const profile of options.profiles) {
      const result = await formatsOfProfile(bench, profile, options.formats, options.count(profile), registryUrl);
      byProfile[profile] = result;
      for (const format of options.formats) rows.push(row(profile, result.count, format, result.figures[format]!));
    }
    return { report: { formats: byProfile }, rows };
  };
  return options.formats.includes('confluent') ? withRegistry(bench, all) : all(undefined);
}
