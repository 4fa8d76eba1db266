// `fink start distribution`: the science database, read after the checkpoint in batches, every
// topic's filter evaluated on each alert in one pass, and each batch produced with its new
// checkpoint in one Kafka transaction (docs/architecture.md, Exactly once).
import { join } from 'node:path';
import { FinkError } from '../errors.ts';
import { pause } from '../pause.ts';
import { appendRecord } from '../files.ts';
import { classifyKafkaError, errorIds, unreachableError } from '../kafka/errors.ts';
import { DEFAULT_MAX_MESSAGE_BYTES, ensureTopic, messageLimits } from '../kafka/topics.ts';
import { FencedError, TransactionalSession } from '../kafka/transactional-session.ts';
import type { Compression } from '../kafka/transactional-producer.ts';
import { openReader, StoreReplacedError, type AlertReader, type Checkpoint } from '../sciencedb/reader.ts';
import { Outage } from '../service/outage.ts';
import { Progress } from '../service/progress.ts';
import { BrokerWatch } from './brokers.ts';
import { buildBatch, type Batch, type TopicTarget } from './batch.ts';
import { checkpointMessage, readCheckpoint, stillValid } from './checkpoint.ts';
import { loadFilters, type Filter } from './filters.ts';
import { silentLogger, type Logger } from '../log.ts';
import { Metrics } from './metrics.ts';
import { SchemaFiles } from './schema-files.ts';
import { sizedTopics, type DistributionSettings } from './settings.ts';
import { planTopics, topicCompression, type TopicPlan } from './topics.ts';
import { planWaves } from '../kafka/waves.ts';
import { WireSchemas } from './wire.ts';
import { predicatesOf, UserTopics } from './user-topics.ts';
import { ConfluentTopics } from './confluent-format.ts';

export interface DistributionOptions {
  /** Distribute what is stored at start, then return. */
  untilCaughtUp?: boolean;
  /** Abort: the batch in flight is committed, then the service returns. */
  signal?: AbortSignal;
  log?: Logger;
  /** Counters of this run (a fresh set by default): the summary is drawn from them. */
  metrics?: Metrics;
  /** Seconds between progress lines (default 5). */
  progressEvery?: number;
}

export interface DistributionSummary {
  alerts: number;
  batches: number;
  seconds: number;
  topics: Record<string, { messages: number; bytes: number }>;
  filterErrors: number;
  skipped: number;
  /** Group mode: records of the science log passed over as copies of an alert within the dedup window. */
  duplicates: number;
  /** Group mode: records of the science log that are not alerts, skipped. */
  refusedRecords: number;
  /** Transactions given up after sending data (their batches were sent again). */
  abortedTransactions: number;
  checkpoint: Checkpoint;
}

/** How long a new session waits for its checkpoint topic's stable end to meet its log end. */
const CHECKPOINT_SETTLE_MS = 60_000;

/** Where the service stands after opening a session: its checkpoint and its topics as they are now. */
interface Position {
  checkpoint: Checkpoint;
  /** Alerts this id has distributed since its first run. */
  alerts: number;
  targets: TopicTarget[];
}

export async function runDistribution(settings: DistributionSettings, options: DistributionOptions = {}): Promise<DistributionSummary> {
  const log = options.log ?? silentLogger;
  const metrics = options.metrics ?? new Metrics();
  const started = performance.now();
  const { plans, filters, compressionOf: shippedCompression } = await plannedTopics(settings, metrics);
  const users = new UserTopics(settings, (fresh) => prepareTopics(settings, fresh, log, false), predicatesOf(filters), log, metrics);
  const compressionOf = (topic: string) => users.compressionOf(topic) ?? shippedCompression(topic);
  log('info', 'distribution starting', { id: settings.id, topics: plans.map((p) => p.topic).join(','), batch: settings.batchSize, mode: options.untilCaughtUp === true ? 'until-caught-up' : 'continuous' });

  const reader = openReader(settings.scienceDbPath);
  const wire = new WireSchemas((schemaId) => reader.schemaJson(schemaId));
  const files = new SchemaFiles(settings.schemaFile);
  const format = new ConfluentTopics(settings.format, log, { waitOutages: options.untilCaughtUp !== true });
  const session = new TransactionalSession({ connection: settings.connection, transactionalId: settings.id, clientId: `fink-distribution-${settings.id}`, compression: settings.compression });
  const outage = new Outage(log);
  const brokers = new BrokerWatch(() => session.brokers(), log);
  const progress = new Progress(options.progressEvery ?? 5, log, () => ({ alerts: metrics.alerts, bytes: metrics.totalBytes() }));
  const target = options.untilCaughtUp === true ? reader.head() : undefined;
  /** What each topic accepts; undefined until the topics are ready, which is the first thing Kafka is asked. */
  let limits: Map<string, number> | undefined;
  const limitOf = (topic: string) => limits?.get(topic) ?? users.limitOf(topic) ?? DEFAULT_MAX_MESSAGE_BYTES;
  let position: Position | undefined;
  let last: Checkpoint = {};
  try {
    while (options.signal?.aborted !== true) {
      try {
        limits ??= await prepareTopics(settings, plans, log);
        position ??= await resume(session, settings, reader, plans, limitOf, log, users);
        last = position.checkpoint;
        outage.recovered();
        await brokers.tick();
        if (target !== undefined && reached(position.checkpoint, target)) break;
        const batchStart = performance.now();
        const { alerts, checkpoint: next } = reader.read(position.checkpoint, settings.batchSize, target, settings.batchBytes);
        if (alerts.length === 0) {
          metrics.lag = 0;
          if (target !== undefined) break;
          await pause(settings.pollMs, options.signal);
          continue;
        }
        // The user filters are looked at after the read (user-topics.ts says why), before the build.
        const batch = buildBatch(alerts, [...position.targets, ...(await users.targets(session))], wire, settings.oversize, format);
        report(batch, files, settings.stateDir, metrics, log);
        // Before the transaction's first send: it never carries a schema id the registry does not hold.
        await format.prepare(batch, options.signal);
        // The record stays as it was without user filters (userBytes and userAlerts once one sent something).
        const userBytes = users.quotaUsage();
        const userAlerts = users.quotaAlerts();
        const saved = { checkpoint: next, stores: reader.identities(), alerts: position.alerts + alerts.length, at: new Date().toISOString(), ...(Object.keys(userBytes).length > 0 ? { userBytes, userAlerts } : {}) };
        await session.send(planWaves(batch.messages, limitOf), compressionOf);
        // The usage topic's record (user-usage.ts) mirrors the checkpoint's usage, in the same transaction.
        await session.send([[checkpointMessage(settings.checkpointTopic, settings.id, saved), ...users.usageMessages(userBytes, userAlerts)]]);
        await session.commit();
        users.committed();
        position = { ...position, checkpoint: next, alerts: saved.alerts };
        last = next;
        metrics.countBatch(alerts.length, batch.messages, (performance.now() - batchStart) / 1000);
        progress.tick(() => ({ lag: (metrics.lag = reader.lag(next)) }));
      } catch (err) {
        // Distributing what is there is a one-off job: a Kafka that never answered is a mistake to name.
        if (limits === undefined && options.untilCaughtUp === true && classifyKafkaError(err) === 'unreachable') throw unreachableError(settings.connection.bootstrapBrokers, err);
        const wait = format.retryAfter(err) ?? afterFailure(err, settings, outage, metrics, log);
        // Whatever happened to the batch in flight, the checkpoint in Kafka says whether it was
        // committed: start over from a new session.
        if (await session.close()) metrics.transactionsAborted++;
        position = undefined;
        users.invalidate();
        await pause(wait, options.signal);
      }
    }
  } finally {
    await session.close();
    await users.close();
    reader.close();
  }
  const summary = summarize(metrics, (performance.now() - started) / 1000, last);
  log('info', 'distribution stopped', { alerts: summary.alerts, batches: summary.batches, seconds: summary.seconds.toFixed(1), filter_errors: summary.filterErrors, skipped: summary.skipped, aborted_transactions: summary.abortedTransactions });
  return summary;
}

/** The topics the service fills (their filters loaded, declared to the metrics) and each one's compression. */
export async function plannedTopics(settings: DistributionSettings, metrics: Metrics): Promise<{ plans: TopicPlan[]; filters: Filter[]; compressionOf: (topic: string) => Compression }> {
  const filters = await loadFilters(settings.topics.filtersDir);
  const plans = planTopics(settings.topics, filters);
  metrics.declareTopics(plans.map((p) => p.topic));
  const compressions = new Map(plans.map((p) => [p.topic, topicCompression(p, settings.compression, settings.lightCompression)]));
  return { plans, filters, compressionOf: (topic) => compressions.get(topic) ?? settings.compression };
}

/**
 * Whether the transaction coordinator or a partition leader refused the session's producer epoch
 * (PRODUCER_FENCED from the coordinator, INVALID_PRODUCER_EPOCH from a leader, KIP-588). Kafka
 * answers the same two when another instance with this DISTRIBUTION_ID started and when the
 * coordinator aborted this instance's own transaction at the transaction timeout, which bumps the
 * epoch too (KIP-360): an instance cut off, stalled or suspended for longer than its transaction
 * timeout hears it as soon as it is back. So the answer alone stops nothing: the next session's
 * open asks the coordinator which it was (TransactionalSession.open: one epoch step on, with a
 * transaction of its own open past the timeout, is its own; anything further is another instance,
 * FencedError, which stops it with the line that says so).
 */
function epochRefused(err: unknown): boolean {
  return !(err instanceof FencedError) && errorIds(err).some((id) => id === 'PRODUCER_FENCED' || id === 'INVALID_PRODUCER_EPOCH');
}

/**
 * After a failed pass: throws what must stop the service (fenced, refused, a bug), or says how long
 * to wait before starting over from the last committed checkpoint.
 */
export function afterFailure(err: unknown, settings: DistributionSettings, outage: Outage, metrics: Metrics, log: Logger): number {
  if (err instanceof StoreReplacedError) {
    // Nothing of the batch was sent; the committed checkpoint holds for the new store only if it is the same store.
    log('warn', `${err.message}: resuming from the last committed checkpoint`, { night: err.night });
    return 0;
  }
  if (epochRefused(err)) {
    log('warn', "this instance's transaction was fenced: a new session asks the transaction coordinator whether its own transaction outlived the transaction timeout or another instance took its DISTRIBUTION_ID", { id: settings.id, reasons: errorIds(err).join(',') });
    return 0;
  }
  const failure = classifyKafkaError(err);
  if (err instanceof FencedError || failure === 'fenced') throw new FinkError(`another instance with DISTRIBUTION_ID=${settings.id} started and fenced this one; it carries on from the last committed batch`);
  if (err instanceof FinkError || failure === undefined || failure === 'refused') throw err;
  if (failure === 'unauthorized') throw new FinkError(`Kafka refused an operation of user ${settings.user ?? '(none)'}: ${(err as Error).message} (${errorIds(err).join(', ')})`);
  metrics.countError('kafka');
  // Refused credentials are a broker's answer: retried like one.
  return outage.failed(err, failure === 'authentication' ? 'answered' : failure, errorIds(err), settings.connection.bootstrapBrokers);
}

/** Creates the topics the service fills when they are missing (with its own credentials), and reads what each accepts; the checkpoint topic too, unless in group mode. */
export async function prepareTopics(settings: DistributionSettings, plans: readonly TopicPlan[], log: Logger, withCheckpoint = true): Promise<Map<string, number>> {
  const sized = sizedTopics(settings, plans.length);
  const wanted = plans.map((p) => [p.topic, sized] as const);
  const checkpointTopic = [settings.checkpointTopic, { ...settings.newTopics, partitions: 1, configs: { ...settings.newTopics.configs, 'cleanup.policy': 'compact' } }] as const;
  for (const [topic, topicSettings] of withCheckpoint ? [...wanted, checkpointTopic] : wanted) {
    try {
      if (await ensureTopic(settings.connection, topic, topicSettings)) log('info', 'created topic', { topic, partitions: topicSettings.partitions, replication: topicSettings.replicationFactor, ...topicSettings.configs });
    } catch (err) {
      if (classifyKafkaError(err) === 'unauthorized') throw new FinkError(`topic ${topic} does not exist and user ${settings.user ?? ''} may not create it: create it with 'fink_kafka --create-topic ${topic}' or grant the right`);
      throw err;
    }
  }
  try {
    return await messageLimits(settings.connection, plans.map((p) => p.topic));
  } catch (err) {
    // Reading topic configurations needs DESCRIBE_CONFIGS, which a producer user may lack.
    log('warn', "could not read the topics' max.message.bytes: assuming Kafka's default", { default: DEFAULT_MAX_MESSAGE_BYTES, error: (err as Error).message });
    return new Map();
  }
}

/** A new session, then the last committed checkpoint and the topics' partitions. */
async function resume(session: TransactionalSession, settings: DistributionSettings, reader: AlertReader, plans: readonly TopicPlan[], limitOf: (topic: string) => number, log: Logger, users: UserTopics): Promise<Position> {
  await session.open();
  // The session completed or aborted any earlier transaction of this id, so the checkpoint topic's
  // end is about to be stable: wait for it, or a commit whose markers are not yet written is missed.
  const { saved, ignored } = await readCheckpoint(settings.connection, settings.checkpointTopic, settings.id, CHECKPOINT_SETTLE_MS);
  for (const r of ignored) log('warn', 'a record of the checkpoint topic is not a checkpoint of this service: passed over', { topic: settings.checkpointTopic, partition: r.partition, offset: r.offset, reason: r.reason });
  const { checkpoint, replaced } = saved === null ? { checkpoint: {}, replaced: [] } : stillValid(saved, reader.identities());
  // The user filters' quotas stand where the committed checkpoint says: exactly once across restarts.
  users.restoreQuota(saved?.userBytes ?? {}, saved?.userAlerts);
  const head = reader.head();
  for (const [night, seq] of Object.entries(checkpoint)) {
    const stored = head[night];
    if (stored !== undefined && seq > stored) throw new FinkError(`the checkpoint of DISTRIBUTION_ID=${settings.id} says night ${night} was distributed up to alert ${seq}, but the science database (${settings.scienceDbPath}) holds ${stored} alerts of that night: it is not the database the checkpoint was taken on, or it lost alerts (restored from an older copy?). Point SCIENCE_DB_PATH at the right folder; or, to distribute this database anew, choose a new DISTRIBUTION_ID (consumers then see its alerts again)`);
  }
  for (const r of replaced) log('warn', 'the science database of this night is not the one the checkpoint was taken on: distributing the night from its first alert', { night: r.night, checkpoint_store: r.was, store: r.now });
  log('info', saved === null ? 'no checkpoint yet: from the first alert' : 'resuming after the last committed batch', { alerts_before: saved?.alerts ?? 0, checkpoint: JSON.stringify(checkpoint) });
  const partitions = await session.partitionCounts(plans.map((p) => p.topic));
  const targets = plans.map((plan) => ({ plan, partitions: partitions.get(plan.topic) ?? 1, maxMessageBytes: limitOf(plan.topic) }));
  return { checkpoint, alerts: saved?.alerts ?? 0, targets };
}

/** What a built batch asks of the world before it is sent: schema files, log lines, the record of skipped alerts. */
// `candid` in logs and in skipped.jsonl is the alert's id within its survey (a Rubin diaSourceId for
// survey=lsst), and `objectId` its object's key: the names stay those ZTF-only records used.
export function report(batch: Batch, files: SchemaFiles, stateDir: string, metrics: Metrics, log: Logger): void {
  for (const { wire, topic, selecting } of batch.schemas) {
    for (const file of files.ensure(wire, topic, selecting)) log('info', 'schema file written', { file, fingerprint: wire.fingerprint, topic });
  }
  for (const e of batch.filterErrors) {
    metrics.countError('filter');
    log('warn', 'filter threw: alert counted as not matching', { filter: e.filter, candid: e.alertId, error: e.error, survey: e.survey });
  }
  if (batch.oversize.length === 0) return;
  const record = join(stateDir, 'skipped.jsonl');
  for (const { alert, topic, bytes, limit } of batch.oversize) {
    appendRecord(record, JSON.stringify({ candid: String(alert.alertId), objectId: alert.objectKey, survey: alert.survey, topic, bytes, limit, at: new Date().toISOString() }) + '\n');
    metrics.countError('oversize');
    log('warn', 'alert larger than the topic accepts: skipped', { candid: alert.alertId, topic, bytes, limit, record, survey: alert.survey });
  }
}

function reached(checkpoint: Checkpoint, target: Checkpoint): boolean {
  return Object.entries(target).every(([night, seq]) => (checkpoint[night] ?? 0) >= seq);
}

export function summarize(metrics: Metrics, seconds: number, checkpoint: Checkpoint): DistributionSummary {
  const topics: DistributionSummary['topics'] = {};
  for (const [topic, messages] of metrics.messages) topics[topic] = { messages, bytes: metrics.bytes.get(topic) ?? 0 };
  return { alerts: metrics.alerts, batches: metrics.batches, seconds, topics, filterErrors: metrics.errors.get('filter') ?? 0, skipped: metrics.errors.get('oversize') ?? 0, duplicates: metrics.errors.get('duplicate') ?? 0, refusedRecords: metrics.errors.get('log-record') ?? 0, abortedTransactions: metrics.transactionsAborted, checkpoint };
}
