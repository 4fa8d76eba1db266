// `fink start distribution --group G` (group mode, docs/architecture.md, The distribution as a
// consumer group): instances on any number of hosts share the science log's partitions through
// the consumer group G. Kafka's read-process-write: each batch (read at read_committed from the
// assigned partitions, filtered and encoded as in the single-instance mode) and the group's offsets
// for it commit in one transaction of this instance's transactional id (DISTRIBUTION_ID), the
// offsets sent with the group's metadata so that the coordinator refuses them from a member whose
// partitions moved. No checkpoint topic: the group's committed offsets are the checkpoint.
import { join } from 'node:path';
import type { Survey } from '../alert/survey.ts';
import { appendRecord } from '../files.ts';
import { classifyKafkaError, unreachableError } from '../kafka/errors.ts';
import { newPartitionReader } from '../kafka/topic-reader.ts';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../kafka/topics.ts';
import { TransactionalSession, type Message } from '../kafka/transactional-session.ts';
import { GroupFencedError, stableCommittedOffsets } from '../kafka/txn-offsets.ts';
import { silentLogger, type Logger } from '../log.ts';
import { scienceTopic } from '../sciencedb/log-format.ts';
import { LogSchemas } from '../sciencedb/log-schemas.ts';
import { Outage } from '../service/outage.ts';
import { Progress } from '../service/progress.ts';
import { pause } from '../pause.ts';
import { ConfluentTopics } from './confluent-format.ts';
import { buildBatch, type TopicTarget } from './batch.ts';
import { BrokerWatch } from './brokers.ts';
import { groupLag, scienceTopicsPresent, UNTIL_CAUGHT_UP_QUIET_MS } from './group-lag.ts';
import { LeaderMovedError, LogPartitions, type LogBatch } from './group-batches.ts';
import { GroupMember, REBALANCE_TIMEOUT_MS, type Assignment } from '../kafka/group-member.ts';
import { Metrics } from './metrics.ts';
import { SchemaFiles } from './schema-files.ts';
import { afterFailure, plannedTopics, prepareTopics, report, summarize, type DistributionOptions, type DistributionSummary } from './service.ts';
import type { DistributionSettings } from './settings.ts';
import type { TopicPlan } from './topics.ts';
import { planWaves } from '../kafka/waves.ts';
import { WireSchemas } from './wire.ts';
import { predicatesOf, UserTopics } from './user-topics.ts';

const SURVEYS: readonly Survey[] = ['ztf', 'lsst'];
/**
 * The transaction timeout of a member: a member that dies holds the offsets of its partitions in its
 * open transaction, and the new owner's stable read of the committed offsets waits until the
 * coordinator aborts it. With the single instance's 30 s, a SIGKILLed member's partitions flowed
 * again 20 to 36 s after the kill; with 10 s, about when its session (10 s) has expired and they are
 * handed over. A member's transaction is open only while a built batch is sent and committed
 * (well under a second here); one that takes longer is aborted by the coordinator and sent again.
 */
const GROUP_TRANSACTION_TIMEOUT_MS = 10_000;
/** How often a member looks for science topics that did not exist yet, and measures the group's lag. */
const TOPIC_LOOK_MS = 5000;

/** What one running member holds: the clients and what it knows of the log. */
interface Parts {
  settings: DistributionSettings;
  group: string;
  log: Logger;
  metrics: Metrics;
  session: TransactionalSession;
  member: GroupMember;
  reader: ReturnType<typeof newPartitionReader>;
  schemas: LogSchemas;
  wire: WireSchemas;
  files: SchemaFiles;
  format: ConfluentTopics;
  surveyOf: (topic: string) => Survey;
}

export async function runGroupDistribution(settings: DistributionSettings & { group: string }, options: DistributionOptions = {}): Promise<DistributionSummary> {
  const log = options.log ?? silentLogger;
  const metrics = options.metrics ?? new Metrics();
  const started = performance.now();
  const { plans, filters, compressionOf: shippedCompression } = await plannedTopics(settings, metrics);
  const users = new UserTopics(settings, (fresh) => prepareTopics(settings, fresh, log, false), predicatesOf(filters), log, metrics, settings.group);
  const compressionOf = (topic: string) => users.compressionOf(topic) ?? shippedCompression(topic);
  log('info', 'distribution starting', { id: settings.id, group: settings.group, topics: plans.map((p) => p.topic).join(','), batch: settings.batchSize, mode: options.untilCaughtUp === true ? 'until-caught-up' : 'continuous', dedup_window: settings.dedupWindow });
  const byTopic = new Map(SURVEYS.map((s) => [scienceTopic(settings.sciencePrefix, s), s]));
  const schemas = new LogSchemas(settings.connection, settings.sciencePrefix);
  const parts: Parts = {
    settings,
    group: settings.group,
    log,
    metrics,
    session: new TransactionalSession({ connection: settings.connection, transactionalId: settings.id, clientId: `fink-distribution-${settings.id}`, compression: settings.compression, transactionTimeoutMs: GROUP_TRANSACTION_TIMEOUT_MS }),
    member: new GroupMember(settings.connection, settings.group, settings.id, log),
    reader: newPartitionReader(settings.connection, `fink-distribution-${settings.id}-reader`),
    schemas,
    wire: new WireSchemas((id) => schemas.json(id)),
    files: new SchemaFiles(settings.schemaFile),
    format: new ConfluentTopics(settings.format, log, { waitOutages: options.untilCaughtUp !== true }),
    surveyOf: (topic) => byTopic.get(topic)!,
  };
  const outage = new Outage(log);
  const brokers = new BrokerWatch(() => parts.session.brokers(), log);
  const progress = new Progress(options.progressEvery ?? 5, log, () => ({ alerts: metrics.alerts, bytes: metrics.totalBytes() }));
  let limits: Map<string, number> | undefined;
  let targets: TopicTarget[] | undefined;
  let owned: { assignment: Assignment; partitions: LogPartitions } | undefined;
  let lookedForTopics = 0;
  let quietSince: number | undefined;
  /** The generation whose offsets the coordinator refused last, and when. */
  let refused: Refused | undefined;
  /** With `--until-caught-up`: whether the group's lag has been zero long enough to leave. */
  const idleDone = async () => options.untilCaughtUp === true && (quietSince = await caughtUp(parts, [...byTopic.keys()], quietSince)) !== undefined && Date.now() - quietSince >= UNTIL_CAUGHT_UP_QUIET_MS;
  try {
    while (options.signal?.aborted !== true) {
      try {
        limits ??= await prepareTopics(settings, plans, log, false);
        if (!parts.session.isOpen) await parts.session.open();
        const limitOf = (topic: string) => limits?.get(topic) ?? users.limitOf(topic) ?? DEFAULT_MAX_MESSAGE_BYTES;
        targets ??= await topicTargets(parts.session, plans, limitOf);
        if (Date.now() - lookedForTopics > TOPIC_LOOK_MS) {
          lookedForTopics = Date.now();
          await followTopics(parts, [...byTopic.keys()]);
          if (parts.member.topics.length > 0) metrics.lag = await groupLag(parts.settings.connection, parts.reader, parts.member, [...byTopic.keys()]);
        }
        outage.recovered();
        await brokers.tick();
        const assignment = await currentAssignment(parts, refused);
        if (assignment === undefined) {
          if (await idleDone()) break;
          await pause(settings.pollMs, options.signal);
          continue;
        }
        if (owned?.assignment !== assignment) owned = { assignment, partitions: await takePartitions(parts, assignment) };
        const batchStart = performance.now();
        const batch = await owned.partitions.read(settings.batchSize, settings.batchBytes, owned.partitions.partitions === 0 ? 0 : settings.pollMs);
        if (batch.offsets.length === 0) {
          if (owned.partitions.partitions === 0) await pause(settings.pollMs, options.signal);
          if (await idleDone()) break;
          continue;
        }
        quietSince = undefined;
        // The user filters are looked at after the read (user-topics.ts says why), before the build.
        const messages = await commitBatch(parts, assignment, batch, [...targets, ...(await users.targets(parts.session))], limitOf, compressionOf, () => users.usageMessages());
        owned.partitions.confirm(batch);
        users.committed();
        // Counted and recorded once committed: an aborted batch is read again.
        noteRefused(parts, batch);
        if (batch.duplicates > 0) metrics.countError('duplicate', batch.duplicates);
        metrics.countBatch(batch.alerts.length, messages, (performance.now() - batchStart) / 1000);
        progress.tick(() => ({ lag: metrics.lag }));
      } catch (err) {
        if (limits === undefined && options.untilCaughtUp === true && classifyKafkaError(err) === 'unreachable') throw unreachableError(settings.connection.bootstrapBrokers, err);
        // Whatever happened to the batch in flight, the group's committed offsets say whether it
        // went out: start over from them, positions and windows rebuilt.
        owned = undefined;
        targets = undefined;
        users.invalidate();
        if (err instanceof GroupFencedError) refused = { generationId: err.group.generationId, memberId: err.group.memberId, at: Date.now() };
        const wait = err instanceof GroupFencedError ? fencedByGroup(parts, err) : err instanceof LeaderMovedError ? leaderMoved(parts, err) : (parts.format.retryAfter(err) ?? afterFailure(err, settings, outage, metrics, log));
        if (await parts.session.close()) metrics.transactionsAborted++;
        await pause(wait, options.signal);
      }
    }
  } finally {
    await parts.session.close();
    await users.close();
    await parts.member.close();
    await parts.reader.close().catch(() => {});
  }
  const summary = summarize(metrics, (performance.now() - started) / 1000, {});
  log('info', 'distribution stopped', { alerts: summary.alerts, batches: summary.batches, seconds: summary.seconds.toFixed(1), filter_errors: summary.filterErrors, skipped: summary.skipped, aborted_transactions: summary.abortedTransactions });
  return summary;
}

/**
 * One batch out: built, its new schema files and records written, its messages sent, the group's
 * offsets added with this member's generation, committed. A commit after the generation moved is
 * refused by the group coordinator (GroupFencedError): the caller aborts it, and whoever owns the
 * partitions now goes on from the committed offsets, so nothing is doubled either way.
 */
async function commitBatch(parts: Parts, assignment: Assignment, batch: LogBatch, targets: readonly TopicTarget[], limitOf: (topic: string) => number, compressionOf: Parameters<TransactionalSession['send']>[1], usage: () => Message[]): Promise<readonly Message[]> {
  const { settings, schemas, metrics, log } = parts;
  const firstUse = new Map<string, string>();
  batch.alerts.forEach((a, i) => {
    const at = batch.places[i]!;
    const place = `${at.topic}/${at.partition} offset ${at.offset}`;
    if (!firstUse.has(a.schemaId)) firstUse.set(a.schemaId, place);
    if (a.added !== null && !firstUse.has(a.added.schemaId)) firstUse.set(a.added.schemaId, place);
  });
  await schemas.ensure(firstUse.keys(), (f) => firstUse.get(f) ?? '?');
  const built = buildBatch(batch.alerts, targets, parts.wire, settings.oversize, parts.format);
  report(built, parts.files, settings.stateDir, metrics, log);
  // Before the transaction's first send: it never carries a schema id the registry does not hold.
  await parts.format.prepare(built);
  await parts.session.send(planWaves(built.messages, limitOf), compressionOf);
  // What the user filters sent, this instance's record of it in the same transaction (user-usage.ts).
  const record = usage();
  if (record.length > 0) await parts.session.send([record]);
  await parts.session.commitOffsets(() => parts.member.coordinator(), assignment.group, batch.offsets);
  await parts.session.commit();
  return built.messages;
}

/** Records that are not alerts, of a committed batch: logged, recorded in the state folder, counted; the group goes on. */
function noteRefused(parts: Parts, batch: LogBatch): void {
  if (batch.refused.length === 0) return;
  const record = join(parts.settings.stateDir, 'refused-records.jsonl');
  for (const r of batch.refused) {
    appendRecord(record, JSON.stringify({ topic: r.topic, partition: r.partition, offset: String(r.offset), reason: r.reason, at: new Date().toISOString() }) + '\n');
    parts.metrics.countError('log-record');
    parts.log('warn', 'a record of the science log is not an alert: skipped', { topic: r.topic, partition: r.partition, offset: r.offset, reason: r.reason, record });
  }
}

/** The partitions of a new assignment, at the group's committed offsets, their windows rebuilt. */
async function takePartitions(parts: Parts, assignment: Assignment): Promise<LogPartitions> {
  const started = Date.now();
  const committed = assignment.partitions.length === 0 ? new Map<string, bigint | undefined>() : await stableCommittedOffsets(parts.member.client, () => parts.member.coordinator(), parts.group, assignment.partitions);
  const taken = await LogPartitions.take(parts.reader, assignment.partitions, parts.surveyOf, committed, parts.settings.dedupWindow, parts.log);
  parts.log('info', 'partitions taken at the committed offsets', { generation: assignment.group.generationId, partitions: assignment.partitions.length, committed: [...committed].map(([k, v]) => `${k}@${v ?? 'start'}`).join(','), window_rebuilt_ms: Date.now() - started });
  return taken;
}

/** Subscribes to the science topics that exist now (a topic created later is picked up on a later look). */
async function followTopics(parts: Parts, topics: readonly string[]): Promise<void> {
  const present = await scienceTopicsPresent(parts.settings.connection, topics);
  const missing = present.filter((t) => !parts.member.topics.includes(t));
  if (missing.length === 0) return;
  parts.log('info', 'following science topics', { topics: present.join(','), group: parts.group });
  await parts.member.subscribe(present);
}

/** Since when the group's lag on every science partition has been zero (undefined: it is not). */
async function caughtUp(parts: Parts, topics: readonly string[], since: number | undefined): Promise<number | undefined> {
  const lag = await groupLag(parts.settings.connection, parts.reader, parts.member, topics);
  parts.metrics.lag = lag;
  if (lag > 0) return undefined;
  return since ?? Date.now();
}

interface Refused {
  generationId: number;
  memberId: string;
  at: number;
}

/**
 * The assignment to work on now: undefined before the first join, and while the one in hand is
 * the generation the coordinator just refused (the client is rejoining from its heartbeat; working
 * on would only send batches bound to be refused). A client that has not rejoined after a
 * rebalance timeout is made to.
 */
async function currentAssignment(parts: Parts, refused: Refused | undefined): Promise<Assignment | undefined> {
  const assignment = parts.member.assignment;
  if (assignment === undefined) return undefined;
  if (refused === undefined || assignment.group.generationId !== refused.generationId || assignment.group.memberId !== refused.memberId) return assignment;
  if (Date.now() - refused.at > REBALANCE_TIMEOUT_MS) {
    refused.at = Date.now();
    parts.log('warn', 'the group coordinator refused this generation and the client has not rejoined: rejoining', { group: parts.group, generation: refused.generationId });
    await parts.member.rejoin();
  }
  return undefined;
}

/** A second for the cluster's metadata to name the new leaders, then the partitions are taken again. */
function leaderMoved(parts: Parts, err: LeaderMovedError): number {
  parts.log('info', 'a leader of the science log moved: the partitions are taken again from their committed offsets', { group: parts.group, reason: err.message });
  return 1000;
}

function fencedByGroup(parts: Parts, err: GroupFencedError): number {
  parts.log('info', 'the group moved on: the batch in flight is aborted, and the partitions go on from their committed offsets', { group: parts.group, reasons: err.reasons.join(',') });
  return 0;
}

async function topicTargets(session: TransactionalSession, plans: readonly TopicPlan[], limitOf: (topic: string) => number): Promise<TopicTarget[]> {
  const partitions = await session.partitionCounts(plans.map((p) => p.topic));
  return plans.map((plan) => ({ plan, partitions: partitions.get(plan.topic) ?? 1, maxMessageBytes: limitOf(plan.topic) }));
}
