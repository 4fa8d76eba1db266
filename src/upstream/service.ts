// stream2science: the survey's stream into the science database, exactly once.
//
// The consumer assigns itself every partition of the topics it wants (listed again every
// UPSTREAM_TOPICS_REFRESH_MS, so that a new nightly topic is picked up) instead of joining the
// upstream group and being handed partitions. Its positions live in the science database, committed
// in the transaction of the alerts they carry (src/sciencedb/positions.ts); a group member would
// have to seek to them on every assignment, and a rebalance landing between a fetch and its commit
// would hand the partition to a member whose fetch position the library chose. Self-assignment has
// no rebalance at all: a partition is read from the stored position and from nowhere else, as
// Spark's Kafka source does for Fink's own stream2science. One instance runs per group (the pid
// file); the group only receives commits, so Kafka's tools show the lag. The store (SQLite nights or
// the science log, src/upstream/store.ts) takes each round's messages with their positions.
//
// Shared mode (UPSTREAM_INSTANCE_ID, with the science log) is the exception: instances on several
// hosts join the group, and each reads only what the coordinator gives it (src/upstream/shared.ts);
// a partition taken is still read from its position in the science log, never from the group's.
import { Admin, type Consumer } from '@platformatic/kafka';
import { probeRegistry, redactUrl } from '../avro/schema-registry.ts';
import { FinkError } from '../errors.ts';
import { closeQuietly } from '../kafka/client-options.ts';
import { classifyKafkaError, rootCauses, type KafkaFailure } from '../kafka/errors.ts';
import { fetchPartitions, newPartitionReader, type FetchedPartition } from '../kafka/topic-reader.ts';
import type { Logger } from '../log.ts';
import { pause } from '../pause.ts';
import { SchemaCache } from '../sciencedb/decode.ts';
import type { PositionedMessage, UpstreamStore } from '../sciencedb/positions.ts';
import type { UpstreamPosition } from '../sciencedb/store.ts';
import { Outage, type OutageWords } from '../service/outage.ts';
import { Progress } from '../service/progress.ts';
import { Assignment, outOfRangeTarget, type Assigned } from './assignment.ts';
import { deadLetterFile, recordDeadLetter } from './dead-letters.ts';
import type { Decoders } from './decode.ts';
import { GroupCommits } from './group-commits.ts';
import type { Stream2ScienceMetrics } from './metrics.ts';
import { commitAsMember, commitToGroup, offsetsAt, type ResetTarget } from './offsets.ts';
import { decodeRound } from './round.ts';
import { RegistrySchemaCache } from './schema-cache.ts';
import type { Stream2ScienceSettings } from './settings.ts';
import { GroupMember } from '../kafka/group-member.ts';
import { SharedLogPositionStore } from '../sciencedb/log-shared-positions.ts';
import { SharedPartitions } from './shared.ts';
import { openUpstreamStore } from './store.ts';

export interface Stream2ScienceOptions {
  signal: AbortSignal;
  log: Logger;
  metrics: Stream2ScienceMetrics;
  /** Moves every partition to these offsets first (and records them), as an operator does after an outage. */
  resetTo?: ResetTarget;
  /** Stops once every partition is read to the end seen by a fetch. */
  untilCaughtUp?: boolean;
  /** Seconds between two progress lines. */
  progressSeconds?: number;
}

/** Drawn from the run's metrics. */
export interface Stream2ScienceSummary {
  messages: number;
  alerts: number;
  deadLetters: number;
  seconds: number;
}

const PARTITION_MAX_BYTES = 8 << 20;
const FETCH_WAIT_MS = 500;

const UPSTREAM: OutageWords = { subject: 'upstream', describe: (err) => rootCauses(err).join('; ') };
const SCIENCE_LOG: OutageWords = { subject: 'the science log', describe: (err) => rootCauses(err).join('; ') };

/** What one run holds open, and what its rounds share. */
interface Run {
  settings: Stream2ScienceSettings;
  options: Stream2ScienceOptions;
  consumer: Consumer;
  admin: Admin;
  store: UpstreamStore;
  assignment: Assignment;
  commits: GroupCommits;
  /** Shared mode: the upstream group's member and the partitions it holds. */
  shared: SharedPartitions | undefined;
  decoders: Decoders;
  deadLetters: string;
  /** The epoch of the positions written; a reset starts a new one. */
  epoch: number;
  /** When the line saying that no topic matches was last logged. */
  nothingSaidAt: number;
  /** A round failed: the store is asked where the partitions stand before the next one. */
  failed: boolean;
  /** The store is being written or read: a Kafka error now is the science log's, not upstream's. */
  storing: boolean;
}

export async function runStream2Science(settings: Stream2ScienceSettings, options: Stream2ScienceOptions): Promise<Stream2ScienceSummary> {
  const { signal, log, metrics } = options;
  const started = performance.now();
  const store = openUpstreamStore(settings);
  let run: Run;
  try {
    run = openRun(settings, options, store, await store.positions());
  } catch (err) {
    await store.close();
    throw err;
  }
  const outage = new Outage(log, UPSTREAM);
  const storeOutage = new Outage(log, SCIENCE_LOG);
  const progress = new Progress(options.progressSeconds ?? 5, log, () => ({ alerts: metrics.alerts }));
  try {
    await probe(settings, options);
    let resetDone = options.resetTo === undefined;
    while (!signal.aborted) {
      try {
        if (run.failed) await resume(run);
        if (!resetDone) {
          await run.assignment.refresh(run.admin, run.consumer, settings);
          await reset(run, options.resetTo!);
          resetDone = true;
        }
        const caughtUp = await round(run);
        outage.recovered();
        storeOutage.recovered();
        progress.tick(() => ({ lag: metrics.totalLag(), dead_letters: metrics.deadLetters }));
        if (caughtUp && options.untilCaughtUp === true) break;
      } catch (err) {
        if (signal.aborted) break;
        const failure = classifyKafkaError(err);
        if (failure === undefined) throw err;
        const inStore = run.storing;
        run.storing = false;
        if (failure === 'fenced') {
          // The log store's writer fenced by another instance of the group: reading the positions
          // back first opens its session again, which says so for good (FencedError) or goes on.
          run.failed = true;
          await pause(FENCED_PAUSE_MS, signal);
          continue;
        }
        // A one-off run against a cluster that does not let it in says so rather than waiting for it.
        if (!inStore && options.untilCaughtUp === true && metrics.totalMessages() === 0) refuseOneOff(failure, err, settings);
        metrics.countError(inStore ? 'science_log' : 'upstream');
        const wait = inStore ? storeOutage.failed(err, 'unreachable', [], storeServers(settings)) : outage.failed(err, 'unreachable', [], settings.connection.bootstrapBrokers);
        await pause(wait, signal);
        run.assignment.markStale();
        run.failed = true;
      }
    }
    await run.commits.flush({ final: true });
  } finally {
    await run.store.close();
    // After the writers closed: the partitions go to the others at once, not after the session timeout.
    await run.shared?.close();
    await closeQuietly(run.admin);
    await closeQuietly(run.consumer);
  }
  return summarize(metrics, (performance.now() - started) / 1000);
}

/** Throws the one line for a one-off run that cannot get in upstream: no answer, or credentials refused. */
function refuseOneOff(failure: KafkaFailure, err: unknown, settings: Stream2ScienceSettings): void {
  const at = settings.connection.bootstrapBrokers.join(',');
  if (failure === 'unreachable') throw new FinkError(`the upstream Kafka does not answer at ${at} (${rootCauses(err).join('; ')}): check UPSTREAM_SERVERS and UPSTREAM_SECURITY_PROTOCOL`);
  if (failure === 'authentication') throw new FinkError(`the upstream Kafka at ${at} refused stream2science's credentials (${rootCauses(err).join('; ')}): check UPSTREAM_SASL_USERNAME, UPSTREAM_SASL_PASSWORD and UPSTREAM_SASL_MECHANISM`);
}

/** Asks the registry of the lsst format for its subjects once, and says so when it does not answer as a registry. */
async function probe(settings: Stream2ScienceSettings, options: Stream2ScienceOptions): Promise<void> {
  if (settings.registry === undefined || !settings.formats.some((f) => f.format === 'lsst')) return;
  try {
    await probeRegistry(settings.registry, { signal: options.signal, timeoutMs: settings.registryTimeoutMs });
    options.log('info', 'schema registry answers', { url: redactUrl(settings.registry) });
  } catch (err) {
    if (options.signal.aborted) return;
    // Schemas already cached still decode: the run goes on, and asks again when an id needs it.
    options.log('error', 'schema registry probe failed: check UPSTREAM_SCHEMA_REGISTRY', { url: redactUrl(settings.registry), reason: (err as Error).message });
  }
}

function openRun(settings: Stream2ScienceSettings, options: Stream2ScienceOptions, store: UpstreamStore, stored: ReadonlyMap<string, UpstreamPosition>): Run {
  const { log, signal, metrics } = options;
  const consumer = newPartitionReader(settings.connection, 'fink-stream2science', settings.groupId);
  const admin = new Admin({ clientId: 'fink-stream2science', ...settings.connection, retries: 3, timeout: 30_000 });
  const shared = store instanceof SharedLogPositionStore ? new SharedPartitions(new GroupMember(settings.connection, settings.groupId, settings.instanceId!, log, 'stream2science'), store, log) : undefined;
  return {
    settings,
    options,
    consumer,
    admin,
    store,
    assignment: new Assignment(stored, log, { shared: shared !== undefined }),
    // A group with members refuses a simple consumer's commit: in shared mode the member commits.
    commits: new GroupCommits(consumer, settings.groupId, metrics, log, shared === undefined ? undefined : (positions) => commitAsMember(shared.client, positions)),
    shared,
    decoders: { schemas: new SchemaCache(), registry: new RegistrySchemaCache(settings.registry, settings.stateDir, { retries: settings.schemaRetries, timeoutMs: settings.registryTimeoutMs, stopOnMisconfiguration: options.untilCaughtUp === true, log, signal }) },
    deadLetters: deadLetterFile(settings.stateDir),
    epoch: Math.max(0, ...[...stored.values()].map((p) => p.epoch)),
    nothingSaidAt: -Infinity,
    failed: false,
    storing: false,
  };
}

/** `work` on the store, marked so that a failure of it is told as the store's. */
async function storing<T>(run: Run, work: () => Promise<T>): Promise<T> {
  run.storing = true;
  const result = await work();
  run.storing = false;
  return result;
}

/** The servers of the science log, for the lines of an outage of the store. */
function storeServers(settings: Stream2ScienceSettings): readonly string[] {
  return settings.store.kind === 'kafka' ? settings.store.log.connection.bootstrapBrokers : [];
}

/** After a failed round: the partitions moved to the positions committed, if the store could not tell whether its last write committed. */
async function resume(run: Run): Promise<void> {
  const stored = await storing(run, () => run.store.afterFailure());
  if (stored !== undefined) run.assignment.resume(stored);
  run.shared?.afterFailure(run.assignment, run.commits);
  run.failed = false;
}

/** One fetch from each leader, decoded and stored with the positions; true when caught up. */
async function round(run: Run): Promise<boolean> {
  const { settings, assignment, options: { metrics, log, signal } } = run;
  if (assignment.refreshDue(settings.refreshMs)) await assignment.refresh(run.admin, run.consumer, settings);
  if (run.shared !== undefined && (await followGroup(run, run.shared))) {
    await assignment.refresh(run.admin, run.consumer, settings);
    // The partitions held are committed to the group where they stand: one taken at the end of a
    // stream gone quiet moves no more, and the positions its last owner had not yet committed
    // (commits go once a second, and a partition given up is forgotten) would never reach the group.
    run.commits.note(assignment.all());
  }
  const byLeader = assignment.byLeader();
  if (byLeader.size === 0) {
    nothingMatched(run);
    await pause(Math.min(settings.refreshMs, 1000), signal);
    return false;
  }
  const fetched = (await Promise.all([...byLeader].map(([node, list]) => fetchPartitions(run.consumer, node, list.map((a) => ({ topic: a.topic, topicId: a.topicId, partition: a.partition, offset: a.next })), { maxWaitTime: FETCH_WAIT_MS, partitionMaxBytes: PARTITION_MAX_BYTES })))).flat();
  const decoded = await decodeRound(await answered(run, fetched), assignment, run.decoders);
  for (const [topic, count] of decoded.read) metrics.countMessages(topic, count);
  for (const letter of decoded.deadLetters) {
    recordDeadLetter(run.deadLetters, letter);
    metrics.deadLetters++;
    log('warn', 'dead letter: the message does not decode', { topic: letter.topic, partition: letter.partition, offset: letter.offset, code: letter.code, reason: letter.reason });
  }
  await store(run, decoded.messages);
  // Held partitions are fetched again next round: not at once when nothing else moved.
  if (decoded.held > 0 && decoded.messages.length === 0) await pause(HELD_PAUSE_MS, signal);
  run.commits.note(assignment.advance(decoded.messages));
  for (const l of assignment.lags()) metrics.setLag(l.topic, l.partition, l.messages);
  if (run.shared !== undefined) metrics.keepLag(run.shared.store.held());
  await run.commits.flush({ final: false });
  return assignment.caughtUp();
}

/** Shared mode: the group joined over the wanted topics, the partitions held brought in line with its assignment; true when they changed. */
async function followGroup(run: Run, shared: SharedPartitions): Promise<boolean> {
  await shared.join(run.assignment);
  return storing(run, () => shared.follow(run.assignment, run.commits));
}

const NOTHING_EVERY_MS = 60_000;
const FENCED_PAUSE_MS = 100;
const HELD_PAUSE_MS = 250;

/** Says, at start and every minute, that no upstream topic matches; a one-off run stops with that line. */
function nothingMatched(run: Run): void {
  const line = run.assignment.nothingMatched(run.settings);
  if (line === undefined) return;
  if (run.options.untilCaughtUp === true) throw new FinkError(line);
  if (performance.now() - run.nothingSaidAt < NOTHING_EVERY_MS) return;
  run.nothingSaidAt = performance.now();
  run.options.log('error', line);
}

/** The partitions a fetch answered; the others are moved back in range, or their metadata looked at again. */
async function answered(run: Run, fetched: readonly FetchedPartition[]): Promise<FetchedPartition[]> {
  const good: FetchedPartition[] = [];
  for (const part of fetched) {
    const a = run.assignment.get(part.topic, part.partition)!;
    if (part.error === 'NONE') {
      good.push(part);
      a.highWatermark = part.highWatermark;
    } else if (part.error === 'OFFSET_OUT_OF_RANGE') {
      await backInRange(run, a);
    } else {
      // A leader moved, a topic went: the metadata is looked at again before the next fetch.
      run.options.log('warn', 'fetch refused for a partition: looking at the metadata again', { topic: part.topic, partition: part.partition, error: part.error });
      run.options.metrics.countError('upstream');
      run.assignment.markStale();
    }
  }
  return good;
}

/** A partition whose position the broker refuses, moved as outOfRangeTarget says. */
async function backInRange(run: Run, a: Assigned): Promise<void> {
  const [first, end] = await Promise.all([offsetsAt(run.consumer, [a], 'earliest'), offsetsAt(run.consumer, [a], 'latest')]);
  const from = first.get(a.topic)?.[a.partition] ?? 0n;
  const to = end.get(a.topic)?.[a.partition] ?? 0n;
  const target = outOfRangeTarget(a.next, from, to);
  run.options.log('warn', 'position out of the partition\'s range: moved', { topic: a.topic, partition: a.partition, position: a.next, first: from, end: to, to: target });
  a.next = target;
}

/** The round's alerts and positions in the science database, counted. */
async function store(run: Run, messages: readonly PositionedMessage[]): Promise<void> {
  const { metrics } = run.options;
  const applied = await storing(run, () => run.store.apply(messages, run.epoch));
  const alerts = messages.reduce((n, m) => n + m.alerts.length, 0);
  metrics.alerts += applied.inserted;
  metrics.duplicates += alerts - applied.inserted;
  metrics.transactions += applied.transactions;
}

/** Moves every assigned partition to `target` and records it at once, a new epoch of positions. */
async function reset(run: Run, target: ResetTarget): Promise<void> {
  const all = run.assignment.all();
  const offsets = await offsetsAt(run.consumer, all, target);
  run.epoch++;
  const marks: PositionedMessage[] = all.map((a) => ({ topic: a.topic, partition: a.partition, next: offsets.get(a.topic)?.[a.partition] ?? a.next, alerts: [] }));
  await storing(run, () => run.store.apply(marks, run.epoch));
  run.assignment.advance(marks);
  await commitToGroup(run.consumer, marks);
  run.options.log('info', 'positions reset', { to: typeof target === 'string' ? target : target.time.toISOString(), partitions: marks.length, epoch: run.epoch });
}

function summarize(metrics: Stream2ScienceMetrics, seconds: number): Stream2ScienceSummary {
  return { messages: metrics.totalMessages(), alerts: metrics.alerts, deadLetters: metrics.deadLetters, seconds };
}
