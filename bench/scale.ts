// `npm run bench -- --cases scale,visit`: the distribution as a consumer group over the science log
// (SCIENCE_STORE=kafka), on the bench's own cluster.
//
// scale: for each profile, a science log filled once by `fink simulate` (in its transactions);
// then for each instance count N, a fresh group and a fresh distribution_test topic, N instances of
// `fink start distribution --group G --until-caught-up` started at once and timed until the last
// one exits, each with its own DISTRIBUTION_ID; every alert then read back at read_committed and
// decoded, each exactly once. The CPU is each instance process's own user + system time over its
// whole life (bench/scale-instance.ts: process.cpuUsage() at its end), summed. Kafka's
// ProducerPerformance runs once per profile beside it, with the same count and the average message
// the instances sent, for the ratio the other cases give.
//
// visit: a Rubin visit (10,000 lsst alerts) lands at once in a fresh science log, written by the
// log's own writer in a few transactions back to back, while N instances of the group wait on it;
// the time from the first write to the last alert read on distribution_test (read_committed).
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SURVEYS, type Survey } from '../src/alert/survey.ts';
import { NODE_FLAGS } from '../src/cli/runtime.ts';
import { loadConfig, type Config } from '../src/config/config.ts';
import { kafkaClientOptions } from '../src/kafka/client-options.ts';
import { readTopic } from '../src/kafka/topic-reader.ts';
import { deleteTopic } from '../src/kafka/topics.ts';
import { parseAvroType, type AvroType } from '../src/avro/schema.ts';
import { schemaTopic, scienceTopic } from '../src/sciencedb/log-format.ts';
import { SURVEY_PROFILES } from '../src/sciencedb/simulation.ts';
import { scienceLogSettings } from '../src/sciencedb/log-settings.ts';
import { prepareSchemaTopic, prepareScienceTopic } from '../src/sciencedb/log-topics.ts';
import { benchDir, benchEnv, median, node, producerPerformance, root, say, withTopic, type Bench, type BenchProfile, type CaseResult } from './harness.ts';
import { scaleFigures, type ScaleRow } from './scale-figures.ts';

/** What one instance process said at its end (bench/scale-instance.ts) and in its output. */
export interface InstanceRun {
  alerts: number;
  cpu_s: number;
  boot_cpu_s: number;
}

/** A running instance: its output so far, and its end. */
export interface Instance {
  output: () => string;
  /** SIGTERM (a continuous instance stops after its batch in flight). */
  stop: () => void;
  done: Promise<InstanceRun>;
}

/** Where the instances' logs are kept. */
export const logDir = join(benchDir, 'scale-logs');

export const surveyOf = (profile: BenchProfile): Survey => (SURVEY_PROFILES.lsst.includes(profile) ? 'lsst' : 'ztf');

/** The environment of a group instance over the science log under `prefix`, distributing to `topic` only. */
export function groupEnv(bench: Bench, prefix: string, topic: string, id: string): Record<string, string> {
  return benchEnv(bench, join(benchDir, 'unused'), topic, { SCIENCE_STORE: 'kafka', SCIENCE_TOPIC_PREFIX: prefix, DISTRIBUTION_ID: id });
}

/** `fink start distribution --group G [extra]` through the measuring wrapper. */
export function startInstance(env: Record<string, string>, group: string, extra: string[] = [], nodeFlags: readonly string[] = []): Instance {
  const child = spawn(node, [...NODE_FLAGS, ...nodeFlags, join(root, 'bench', 'scale-instance.ts'), 'start', 'distribution', '--group', group, ...extra], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<InstanceRun>((resolve, reject) => {
    child.on('exit', (code) => {
      // Kept for a look afterwards: each instance's structured log, by its DISTRIBUTION_ID.
      mkdirSync(logDir, { recursive: true });
      writeFileSync(join(logDir, `${env.DISTRIBUTION_ID}.log`), err);
      const last = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || !last.startsWith('{')) return reject(new Error(`instance ${env.DISTRIBUTION_ID} failed (exit ${code}):\n${out}\n${err.slice(-4000)}`));
      const { cpu_s, boot_cpu_s } = JSON.parse(last) as { cpu_s: number; boot_cpu_s: number };
      resolve({ alerts: Number(/distributed (\d+) alerts/.exec(out)?.[1] ?? NaN), cpu_s, boot_cpu_s });
    });
  });
  return { output: () => err, stop: () => child.kill('SIGTERM'), done };
}

/**
 * Every alert on `topic` at read_committed, decoded: throws unless each of `count` is there once.
 * Returns the average message (key + value) in bytes.
 */
export async function checkExactlyOnce(config: Config, topic: string, count: number): Promise<number> {
  const types = new Map<string, AvroType>();
  const ids = new Set<bigint>();
  let messages = 0;
  let bytes = 0;
  for await (const m of readTopic(kafkaClientOptions(config), topic)) {
    const key = m.key!.toString();
    let type = types.get(key);
    if (type === undefined) types.set(key, (type = parseAvroType(JSON.parse(key))));
    const alert = type.fromBuffer(m.value!) as { candid?: bigint; diaSourceId?: bigint };
    ids.add((alert.candid ?? alert.diaSourceId)!);
    messages++;
    bytes += m.key!.length + m.value!.length;
  }
  if (messages !== count || ids.size !== count) throw new Error(`${topic}: ${messages} messages, ${ids.size} distinct alerts, where ${count} alerts each once were expected`);
  return Math.round(bytes / messages);
}

/**
 * The science log under `prefix` created, both surveys' topics and the schemas', as a night's log
 * holds them (and because a group member asks for a missing survey's topic at every look, which
 * takes seconds each: see BENCHMARKS.md). Returns the partitions of the surveys' topics together.
 */
export async function prepareLog(bench: Bench, prefix: string): Promise<number> {
  const settings = scienceLogSettings(loadConfig({ env: groupEnv(bench, prefix, 'unused', 'unused') }));
  await prepareSchemaTopic(settings, () => {});
  let partitions = 0;
  for (const survey of SURVEYS) partitions += (await prepareScienceTopic(settings, survey, () => {})).partitions;
  return partitions;
}

/** The science log under `prefix` removed (its topics, and `others` beside them): the disk is for the next. */
export async function dropLog(bench: Bench, prefix: string, others: readonly string[] = []): Promise<void> {
  const admin = kafkaClientOptions(bench.base, 'admin');
  for (const topic of [...SURVEYS.map((s) => scienceTopic(prefix, s)), schemaTopic(prefix), ...others]) await deleteTopic(admin, topic).catch(() => false);
}

/** `fink simulate` of `count` alerts of `profile` into the science log under `prefix`. */
async function fillLog(bench: Bench, prefix: string, profile: BenchProfile, count: number): Promise<void> {
  const env = { ...process.env as Record<string, string>, SCIENCE_STORE: 'kafka', SCIENCE_TOPIC_PREFIX: prefix, DISTRIBUTION_COMPRESSION: bench.compression };
  const args = [...NODE_FLAGS, join(root, 'bin', 'fink.ts'), 'simulate', '--survey', surveyOf(profile), '--profile', profile, '--count', String(count), '--seed', '1', '--night', '20261125'];
  const t0 = performance.now();
  const child = spawn(node, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`fink simulate into the science log failed (exit ${code}):\n${out.slice(-4000)}`);
  say(`  simulated ${count} ${profile} alerts into the science log ${scienceTopic(prefix, surveyOf(profile))} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

interface ScaleRun extends ScaleRow {
  boot_cpu_s: number;
  alerts_by_instance: number[];
  avg_message_bytes: number;
}

/** N instances at once over the log, timed until the last exits, then every alert counted. */
async function scaleRun(bench: Bench, prefix: string, profile: BenchProfile, count: number, instances: number, cpuProfDir: string | undefined): Promise<ScaleRun> {
  const topic = bench.freshName(`scale-${profile}`);
  const group = bench.freshName('scale-group');
  return withTopic(bench, topic, async () => {
    const t0 = performance.now();
    const started = Array.from({ length: instances }, (_, i) => startInstance(groupEnv(bench, prefix, topic, `${group}-${i}`), group, ['--until-caught-up'], i === 0 ? profiled(cpuProfDir, `${group}-${i}-of-${instances}`) : []));
    const runs = await Promise.all(started.map((s) => s.done));
    const seconds = (performance.now() - t0) / 1000;
    const avg = await checkExactlyOnce(loadConfig({ env: groupEnv(bench, prefix, topic, group) }), topic, count);
    const sum = (f: (r: InstanceRun) => number) => runs.reduce((s, r) => s + f(r), 0);
    return { profile, instances, alerts: count, seconds, cpu_s: sum((r) => r.cpu_s), boot_cpu_s: sum((r) => r.boot_cpu_s), alerts_by_instance: runs.map((r) => r.alerts), avg_message_bytes: avg };
  });
}

/** The median run (by CPU) of `repeat` for one instance count. */
async function scaleMedian(bench: Bench, prefix: string, profile: BenchProfile, count: number, instances: number, cpuProfDir: string | undefined): Promise<ScaleRun> {
  const runs: ScaleRun[] = [];
  for (let r = 0; r < bench.repeat; r++) {
    const run = await scaleRun(bench, prefix, profile, count, instances, cpuProfDir);
    runs.push(run);
    say(`  ${instances} instance${instances === 1 ? '' : 's'}, run ${r + 1}: ${count} alerts, each once on distribution_test, in ${run.seconds.toFixed(1)} s; CPU ${run.cpu_s.toFixed(2)} s (${((run.cpu_s / count) * 1000).toFixed(3)} ms an alert; start of the processes ${run.boot_cpu_s.toFixed(2)} s of it); alerts by instance ${run.alerts_by_instance.join(', ')}`);
  }
  return runs[runs.map((r) => r.cpu_s).indexOf(median(runs.map((r) => r.cpu_s)))]!;
}

/**
 * What one instance spends whatever it distributes: `--until-caught-up` over an empty log (its
 * process's start, its topics, joining the group, the quiet period, leaving). Median of the runs.
 */
async function fixedCost(bench: Bench, cpuProfDir: string | undefined): Promise<number> {
  const runs: number[] = [];
  for (let r = 0; r < bench.repeat; r++) {
    const prefix = `${bench.freshName('log-empty')}_`;
    const topic = bench.freshName('scale-empty');
    const group = bench.freshName('scale-group');
    try {
      await prepareLog(bench, prefix);
      const run = await withTopic(bench, topic, () => startInstance(groupEnv(bench, prefix, topic, `${group}-0`), group, ['--until-caught-up'], profiled(cpuProfDir, `${group}-empty-log`)).done);
      runs.push(run.cpu_s);
    } finally {
      await dropLog(bench, prefix);
    }
  }
  say(`\n== scale: one instance over an empty science log: CPU ${runs.map((c) => c.toFixed(2)).join(', ')} s (the fixed cost of an instance)`);
  return median(runs);
}

export interface ScaleOptions {
  profiles: readonly BenchProfile[];
  instances: readonly number[];
  count: (profile: BenchProfile) => number;
  /** --cpu-prof: where the first instance of each run (and the instance over an empty log) writes its CPU profile (undefined: none is profiled). */
  cpuProfDir?: string | undefined;
}

/** Node's flags that profile an instance into `dir` as `name`.cpuprofile (none without a dir). */
function profiled(dir: string | undefined, name: string): string[] {
  return dir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${name}.cpuprofile`];
}

export async function scaleCase(bench: Bench, o: ScaleOptions): Promise<CaseResult> {
  const fixed = await fixedCost(bench, o.cpuProfDir);
  const rows: ScaleRun[] = [];
  const pp: Record<string, { records_per_s: number; mb_per_s: number; avg_message_bytes: number }> = {};
  for (const profile of o.profiles) {
    const count = o.count(profile);
    say(`\n== scale: ${count} ${profile} alerts from the science log, ${o.instances.join(', ')} instances of one group (${bench.repeat} runs each, median by CPU)`);
    const prefix = `${bench.freshName(`log-${profile}`)}_`;
    try {
      await prepareLog(bench, prefix);
      await fillLog(bench, prefix, profile, count);
      for (const n of o.instances) rows.push(await scaleMedian(bench, prefix, profile, count, n, o.cpuProfDir));
    } finally {
      await dropLog(bench, prefix);
    }
    const avg = rows.at(-1)!.avg_message_bytes;
    const ppTopic = bench.freshName(`pp-scale-${profile}`);
    pp[profile] = { ...await withTopic(bench, ppTopic, () => producerPerformance(bench, ppTopic, count, avg)), avg_message_bytes: avg };
    say(`  ProducerPerformance: ${pp[profile].records_per_s.toFixed(0)} records/s, ${pp[profile].mb_per_s.toFixed(1)} MB/s (${count} records of ${avg} bytes)`);
  }
  const figures = scaleFigures(rows, fixed);
  const extra = new Map(rows.map((r, i) => [i, { boot_cpu_s: r.boot_cpu_s, alerts_by_instance: r.alerts_by_instance }]));
  const scale = figures.map((f, i) => ({ ...f, ...extra.get(i), alerts_per_s: f.alerts / f.seconds, ratio_records: f.alerts / f.seconds / pp[f.profile]!.records_per_s }));
  return {
    report: { scale, scale_instance_fixed_cpu_s: fixed, scale_producer_performance: pp },
    rows: scale.map((s) => [
      `scale ${s.profile}: ${s.alerts} alerts, ${s.instances} instance${s.instances === 1 ? '' : 's'}`,
      `${s.seconds.toFixed(1)} s (${s.alerts_per_s.toFixed(0)} alerts/s), CPU ${s.cpu_s.toFixed(2)} s = ${s.cpu_per_alert_ms.toFixed(3)} ms an alert`,
      `${pp[s.profile]!.records_per_s.toFixed(0)} rec/s`,
      `ratio_records ${s.ratio_records.toFixed(2)}; CPU an alert ${times(s.cpu_per_alert_vs_one)} of 1 instance, ${times(s.marginal_vs_one)} without each instance's fixed ${fixed.toFixed(2)} s (${s.marginal_cpu_per_alert_ms.toFixed(3)} ms)${s.instances > 1 ? '; target <= 1.15x' : ''}`,
    ]),
  };
}

const times = (ratio: number | null) => (ratio === null ? '-' : `${ratio.toFixed(2)}x`);

/**
 * Waits until the instances' last assignments are of one generation, each holds some of the log's
 * partitions and together they hold all of them: the group is settled.
 */
export async function allAssigned(instances: readonly Instance[], partitions: number): Promise<void> {
  const last = (output: string) => {
    const m = [...output.matchAll(/msg="group joined".* generation=(\d+).* partitions="?([^"\s]*)"?/g)].at(-1);
    return { generation: m?.[1], held: m === undefined || m[2] === '' ? 0 : m[2]!.split(',').length };
  };
  const deadline = Date.now() + 180_000;
  for (;;) {
    const seen = instances.map((i) => last(i.output()));
    const settled = new Set(seen.map((s) => s.generation)).size === 1 && seen.every((s) => s.held > 0) && seen.reduce((n, s) => n + s.held, 0) === partitions;
    if (settled) return;
    if (Date.now() > deadline) throw new Error(`the instances did not share the ${partitions} partitions within 180 s (${seen.map((s) => s.held).join(', ')}):\n${instances.map((i) => i.output().slice(-2000)).join('\n')}`);
    await sleep(200);
  }
}
