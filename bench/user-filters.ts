// The user-filters case of bench/run.ts (issue 23, "Fair to everyone": 100 registered filters cost
// at most 1.10x the CPU per alert of none). For each count of filters the throughput case's service
// run is made again, the count's conditions (bench/random-conditions.ts, drawn for the profile's
// survey from its alerts' values, the same for every run) registered before the service starts in
// a registrations topic of the run's own (USER_FILTERS_TOPIC), their topics under a prefix of the
// run's own (USER_TOPIC_PREFIX), all deleted after. The figure is the CPU of the service's process
// per alert, not the wall time: the machine is shared. Every other filter asks for light content,
// as users who want the measurements and not the cutouts would. The conditions are rare by default
// (a few alerts in a thousand each, as the streams users follow are: what 100 of them send then
// stays a small part of what the community topics get); `common` ones keep a few per cent each,
// so that 100 of them send several messages an alert, and the CPU follows the bytes sent.
import { setTimeout as sleep } from 'node:timers/promises';
import { Producer } from '@platformatic/kafka';
import type { Survey } from '../src/alert/survey.ts';
import { closeQuietly, kafkaClientOptions, withAdmin, type KafkaConnection } from '../src/kafka/client-options.ts';
import { openReader, type Checkpoint } from '../src/sciencedb/reader.ts';
import { encodeRegistration, registrationKey, userTopic, type Registration } from '../src/userfilter/registration.ts';
import { ensureRegistrationsTopic } from '../src/userfilter/registrations.ts';
import { randomConditions, silencedAfter } from './random-conditions.ts';
import {
  averageMessage, benchEnv, brokersSettled, cpuSecondsOf, median, prefilled, producerPerformance, runService, say, withTopic,
  type Bench, type BenchProfile, type CaseResult, type PerformanceRun,
} from './harness.ts';
import { interleaved, userFilterFigures, type UserFilterFigures, type UserFilterRun } from './user-filter-figures.ts';

export interface UserFiltersOptions {
  profiles: readonly BenchProfile[];
  /** Counts of registered filters, e.g. [0, 100]. */
  counts: readonly number[];
  /** The alerts of a profile's database. */
  count: (profile: BenchProfile) => number;
  /**
   * `rare`: conditions that keep a few alerts in a thousand, as users' streams do; `common`: a few
   * per cent (random-conditions.ts); `silent`: the rare ones each ANDed with a clause no alert
   * meets, evaluated as often but sending nothing (what the filters cost apart from their messages).
   */
  conditions: ConditionKind;
  /**
   * How many of the registered filters may match, the first ones (null: all of them, or none with
   * `silent`); the others are silenced. 100 filters of which 30 send measure what 100 filters cost when they
   * send 30 rare filters' messages, the evaluation unchanged.
   */
  sending: number | null;
  /**
   * DISTRIBUTION_TOPICS of the measured service: `none`, the test topic only (as the throughput
   * case); `all`, every shipped topic of the survey beside it, as a deployment fills them.
   */
  community: 'none' | 'all';
}

export const CONDITION_KINDS = ['rare', 'common', 'silent'] as const;
export type ConditionKind = (typeof CONDITION_KINDS)[number];

/** The seed of the conditions: the same filters in every run and every benchmark. */
const SEED = 1;
/** Alerts whose values the conditions' thresholds are drawn from. */
const SAMPLE = 5000;

const surveyOf = (profile: BenchProfile): Survey => (profile.startsWith('lsst') ? 'lsst' : 'ztf');
/** A clause no alert meets, for `silent` conditions. */
const NEVER: Record<Survey, string> = { ztf: 'magpsf > 1e9', lsst: 'snr > 1e30' };

/**
 * `count` conditions for the database's survey, drawn from the values of a sample spread over all
 * its `alerts` (times and ids grow along a night: thresholds drawn from its first alerts would keep
 * every later one).
 */
function conditionsFor(db: string, alerts: number, survey: Survey, count: number, kind: ConditionKind, sending: number): string[] {
  if (count === 0) return [];
  const step = Math.max(1, Math.floor(alerts / SAMPLE));
  const sample: Readonly<Record<string, unknown>>[] = [];
  const reader = openReader(db);
  try {
    let checkpoint: Checkpoint = {};
    let index = 0;
    for (;;) {
      // Small reads: a Rubin alert with its cutouts is 190 KB.
      const { alerts: read, checkpoint: next } = reader.read(checkpoint, 500);
      if (read.length === 0) break;
      for (const a of read) if (index++ % step === 0) sample.push(a.fields as unknown as Readonly<Record<string, unknown>>);
      checkpoint = next;
    }
  } finally {
    reader.close();
  }
  return silencedAfter(randomConditions(survey, sample, count, SEED, kind !== 'common'), sending, NEVER[survey]);
}

/**
 * Registers the conditions (owner `bench`, names f0, f1, ...) in a fresh registrations topic, their
 * topics made first, as `fink filter add` does (all at once here: an add reads the registrations
 * first, which takes seconds each).
 */
async function register(bench: Bench, connection: KafkaConnection, registrations: string, prefix: string, survey: Survey, conditions: readonly string[]): Promise<string[]> {
  await ensureRegistrationsTopic(connection, registrations, { replicationFactor: 1, minIsr: 1 });
  if (conditions.length === 0) return [];
  const created = new Date().toISOString();
  const records: Registration[] = conditions.map((where, i) => ({
    owner: 'bench', name: `f${i}`, survey, where, content: i % 2 === 0 ? 'full' : 'light', quotaMb: null, created,
    topic: userTopic(prefix, 'bench', `f${i}`, survey),
  }));
  const partitions = { partitions: bench.partitions, replicas: bench.base.int('DISTRIBUTION_REPLICATION') };
  await withAdmin(connection, (admin) => admin.createTopics({ topics: records.map((r) => r.topic), ...partitions }));
  const producer = new Producer({ clientId: 'fink-bench-user-filters', ...connection, idempotent: true, retries: 10, retryDelay: 500 });
  try {
    await producer.send({ messages: records.map((r) => ({ topic: registrations, key: Buffer.from(registrationKey(r.owner, r.name, r.survey)), value: encodeRegistration(r) })) });
  } finally {
    await closeQuietly(producer);
  }
  return records.map((r) => r.topic);
}

/**
 * Waits until the broker lists the topics: on a loaded machine a topic just made, 300 partitions
 * after it, was not yet known to the service starting right away.
 */
async function known(connection: KafkaConnection, topics: readonly string[]): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    const listed = new Set(await withAdmin(connection, (admin) => admin.listTopics()));
    const missing = topics.filter((t) => !listed.has(t));
    if (missing.length === 0) return;
    if (Date.now() - t0 > 60_000) throw new Error(`topics not listed by the broker a minute after they were made: ${missing.join(', ')}`);
    await sleep(200);
  }
}

/** Deletes the topics of a run (those that exist). */
async function dropTopics(connection: KafkaConnection, topics: readonly string[]): Promise<void> {
  await withAdmin(connection, async (admin) => {
    const existing = new Set(await admin.listTopics());
    const present = topics.filter((t) => existing.has(t));
    if (present.length > 0) await admin.deleteTopics({ topics: present });
  });
}

/** One service run over the database with `conditions` registered. */
async function serviceRun(bench: Bench, db: string, count: number, survey: Survey, conditions: readonly string[], community: 'none' | 'all'): Promise<UserFilterRun> {
  const admin = kafkaClientOptions(bench.base, 'admin');
  const registrations = bench.freshName('user-filters').replaceAll('-', '_');
  const prefix = `${bench.freshName('u').replaceAll('-', '_')}_`;
  // The shipped topics of the run (with `all`) under a prefix of its own: deleted after, like the user topics.
  const substreams = `${bench.freshName('s').replaceAll('-', '_')}_`;
  const topic = bench.freshName('svc-user-filters');
  // A checkpoint topic of the run's own: a run that shared one would read, as it starts, every
  // checkpoint of the runs before it (a hundred filters' usage in each), which a restarted
  // distribution does not (its compacted topic holds one record per id).
  const checkpoints = bench.freshName('checkpoints').replaceAll('-', '_');
  let userTopics: string[] = [];
  let settle_s = 0;
  let broker0 = 0;
  try {
    const run = await withTopic(bench, topic, async () => {
      userTopics = await register(bench, admin, registrations, prefix, survey, conditions);
      await known(admin, [topic, registrations, ...userTopics]);
      settle_s = await brokersSettled(bench);
      broker0 = cpuSecondsOf(bench.brokerPids);
      return runService(benchEnv(bench, db, topic, { USER_FILTERS_TOPIC: registrations, USER_TOPIC_PREFIX: prefix, SUBSTREAM_PREFIX: substreams, DISTRIBUTION_TOPICS: community, DISTRIBUTION_CHECKPOINT_TOPIC: checkpoints, BENCH_STEADY_AFTER: String(Math.floor(count / 2)) }));
    });
    const broker_cpu_s = cpuSecondsOf(bench.brokerPids) - broker0;
    const { alerts, cpu_s, seconds, messages, bytes, user_messages, user_bytes, steady_cpu_s, steady_alerts, gc_minor, gc_major, gc_ms } = run;
    return { filters: conditions.length, alerts, cpu_s, seconds, messages, bytes, user_messages, user_bytes, steady_cpu_s, steady_alerts, settle_s, broker_cpu_s, gc_minor, gc_major, gc_ms };
  } finally {
    const shipped = await withAdmin(admin, (a) => a.listTopics()).then((all) => all.filter((t) => t.startsWith(substreams))).catch(() => []);
    await dropTopics(admin, [registrations, checkpoints, ...userTopics, ...shipped]).catch(() => undefined);
  }
}

/** One profile: every count once per repeat, interleaved, then ProducerPerformance for that repeat. */
async function userFiltersOfProfile(bench: Bench, profile: BenchProfile, counts: readonly number[], count: number, kind: ConditionKind, sending: number, community: 'none' | 'all') {
  const survey = surveyOf(profile);
  const most = Math.max(...counts);
  const silent = sending >= most || kind === 'silent' ? '' : `, all but the first ${sending} of them silent`;
  say(`\n== user filters: ${count} ${profile} alerts, ${counts.join(' then ')} ${kind} ${survey} conditions registered${silent}, interleaved, ${bench.repeat} runs each; community topics: ${community === 'none' ? 'the test topic only' : 'the test topic and every shipped topic of the survey'}`);
  const db = prefilled(profile, count);
  const avg = averageMessage(db);
  const conditions = conditionsFor(db, count, survey, most, kind, sending);
  if (conditions.length > 0) say(`  e.g. ${conditions.slice(0, 3).join('\n       ')}`);
  const runs: UserFilterRun[] = [];
  const pp: PerformanceRun[] = [];
  // A first run not counted: the brokers' JVM compiles its transaction and log paths during the
  // first runs after its start (the brokers used twice the CPU in the first pair of runs that they
  // used in the later ones), and on this 2-core machine that work ran beside the measured service,
  // whose first runs then cost 7 to 10% more CPU an alert, filters or not.
  const warmUp = await serviceRun(bench, db, count, survey, conditions.slice(0, Math.max(...counts)), community);
  say(`  warm-up run, ${Math.max(...counts)} filters, not counted: ${((warmUp.cpu_s * 1000) / warmUp.alerts).toFixed(3)} ms CPU an alert; ${warmUp.broker_cpu_s!.toFixed(1)} s of the brokers' CPU during it`);
  for (const { repeat, filters } of interleaved(counts, bench.repeat)) {
    const run = await serviceRun(bench, db, count, survey, conditions.slice(0, filters), community);
    if (run.alerts !== count) throw new Error(`the service distributed ${run.alerts} of ${count} alerts`);
    runs.push(run);
    const steady = run.steady_cpu_s === undefined ? '' : `, second half ${((run.steady_cpu_s * 1000) / run.steady_alerts!).toFixed(3)} ms`;
    say(`  run ${repeat + 1}, ${filters} filters: ${((run.cpu_s * 1000) / run.alerts).toFixed(3)} ms CPU an alert (${run.cpu_s.toFixed(1)} s${steady}), ${(run.alerts / run.seconds).toFixed(0)} alerts/s, ${run.user_messages} user-topic messages (${(run.user_messages / run.alerts).toFixed(3)} an alert, ${(run.user_bytes / 1e6).toFixed(1)} MB against ${(run.bytes / 1e6).toFixed(1)} MB in ${run.messages} messages to the community topics); brokers quiet after ${run.settle_s!.toFixed(0)} s, ${run.broker_cpu_s!.toFixed(1)} s of their CPU during the run; ${run.gc_minor} minor and ${run.gc_major} major collections, ${run.gc_ms!.toFixed(0)} ms`);
    if (filters === counts.at(-1)) {
      const ppTopic = bench.freshName(`pp-${profile}`);
      pp.push(await withTopic(bench, ppTopic, () => producerPerformance(bench, ppTopic, count, avg)));
      say(`  run ${repeat + 1}: ProducerPerformance ${pp.at(-1)!.records_per_s.toFixed(0)} records/s ${pp.at(-1)!.mb_per_s.toFixed(1)} MB/s`);
    }
  }
  const producer_performance = { records_per_s: median(pp.map((p) => p.records_per_s)), mb_per_s: median(pp.map((p) => p.mb_per_s)) };
  const figures = userFilterFigures(counts, runs).map((f) => ({ ...f, ratio_mb: f.mb_per_s / producer_performance.mb_per_s }));
  return { profile, count, condition_kind: kind, sending: Math.min(sending, most), community_topics: community, avg_message_bytes: avg, conditions, runs, figures, producer_performance };
}

function row(profile: BenchProfile, count: number, kind: ConditionKind, sending: number, community: 'none' | 'all', f: UserFilterFigures & { ratio_mb: number }, pp: { records_per_s: number; mb_per_s: number }): string[] {
  return [
    `${profile}, ${count} alerts, ${f.filters} ${kind} user filters${sending < f.filters && kind !== 'silent' ? ` (${sending} sending)` : ''}${community === 'all' ? ', every shipped topic filled' : ''}`,
    `${f.cpu_per_alert_ms.toFixed(3)} ms CPU an alert, ${f.alerts_per_s.toFixed(0)} alerts/s, ${f.user_messages} user-topic messages (${f.user_mb.toFixed(1)} MB)`,
    `${pp.records_per_s.toFixed(0)} rec/s, ${pp.mb_per_s.toFixed(1)} MB/s`,
    `CPU ${f.cpu_vs_none === null ? '-' : `${f.cpu_vs_none.toFixed(3)}x`} of none (target <= 1.10), second half ${f.steady_vs_none === null ? '-' : `${f.steady_vs_none.toFixed(3)}x`}, ratio_mb ${f.ratio_mb.toFixed(2)}`,
  ];
}

export async function userFiltersCase(bench: Bench, options: UserFiltersOptions): Promise<CaseResult> {
  const byProfile: Record<string, Awaited<ReturnType<typeof userFiltersOfProfile>>> = {};
  const rows: string[][] = [];
  for (const profile of options.profiles) {
    const sending = options.conditions === 'silent' ? 0 : (options.sending ?? Infinity);
    const result = await userFiltersOfProfile(bench, profile, options.counts, options.count(profile), options.conditions, sending, options.community);
    byProfile[profile] = result;
    for (const f of result.figures) rows.push(row(profile, result.count, options.conditions, sending, options.community, f, result.producer_performance));
  }
  return { report: { user_filters: byProfile }, rows };
}
