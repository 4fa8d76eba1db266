// `fink start distribution`: the science database, read after the checkpoint in batches, every
// topic's filter evaluated on each alert in one pass, and each batch produced with its new
// checkpoint in one Kafka transaction (docs/architecture.md, Exactly once).
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { murmur2, type MessageToProduce } from '@platformatic/kafka';
import { FinkError } from '../errors.ts';
import type { Config } from '../config/config.ts';
import { describeTransaction } from '../kafka/transaction-state.ts';
import { createTransactionalProducer, producerIdentity, TRANSACTION_TIMEOUT_MS, type BufferProducer, type ProducerIdentity } from '../kafka/transactional-producer.ts';
import { ensureTopic, messageLimits, type TopicSettings } from '../kafka/topics.ts';
import { errorIds } from '../kafka/errors.ts';
import { openReader, type Checkpoint, type StoredAlert } from '../sciencedb/reader.ts';
import { checkpointMessage, readCheckpoint } from './checkpoint.ts';
import { loadFilters } from './filters.ts';
import { silentLogger, type Logger } from './log.ts';
import { Metrics } from './metrics.ts';
import { SchemaFiles } from './schema-files.ts';
import { planTopics } from './topics.ts';
import { WireSchemas } from './wire.ts';

type Message = MessageToProduce<Buffer, Buffer, Buffer, Buffer>;
type Transaction = Awaited<ReturnType<BufferProducer['beginTransaction']>>;

export interface DistributionOptions {
  /** Distribute what is stored at start, then return. */
  untilCaughtUp?: boolean;
  /** Abort: the batch in flight is committed, then the service returns. */
  signal?: AbortSignal;
  log?: Logger;
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
  checkpoint: Checkpoint;
}

/** Record batches stay under this, whatever the topic accepts: large requests gain nothing. */
const WAVE_BYTES = 900 * 1024;

class FencedError extends FinkError {}

function isFenced(err: unknown): boolean {
  return errorIds(err).some((id) => id === 'PRODUCER_FENCED' || id === 'INVALID_PRODUCER_EPOCH' || id === 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED');
}

const COORDINATOR_SETTLING = new Set(['NOT_COORDINATOR', 'COORDINATOR_NOT_AVAILABLE', 'COORDINATOR_LOAD_IN_PROGRESS', 'CONCURRENT_TRANSACTIONS']);

/** Errors of the Kafka client (network, protocol, timeouts): the ones worth retrying. */
function isKafkaError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('PLT_KFK_');
}

function isAuthorization(err: unknown): boolean {
  return errorIds(err).some((id) => id.endsWith('AUTHORIZATION_FAILED'));
}

function reached(checkpoint: Checkpoint, target: Checkpoint): boolean {
  return Object.entries(target).every(([night, seq]) => (checkpoint[night] ?? 0) >= seq);
}

function positive(n: number): number {
  return n & 0x7fffffff;
}

export async function runDistribution(config: Config, options: DistributionOptions = {}): Promise<DistributionSummary> {
  const log = options.log ?? silentLogger;
  const metrics = options.metrics ?? new Metrics();
  const id = config.require('DISTRIBUTION_ID');
  const batchSize = config.int('DISTRIBUTION_BATCH');
  const pollMs = config.int('DISTRIBUTION_POLL_MS');
  const checkpointTopic = config.require('DISTRIBUTION_CHECKPOINT_TOPIC');
  const oversize = config.require('DISTRIBUTION_OVERSIZE');
  const stateDir = config.require('DISTRIBUTION_STATE_DIR');
  const plans = planTopics(config, await loadFilters(config.require('FILTERS_DIR')));
  const started = performance.now();

  // Topics first: created when missing, with the service's own credentials.
  const settings = { partitions: config.int('DISTRIBUTION_PARTITIONS'), replicationFactor: config.int('DISTRIBUTION_REPLICATION') };
  const wanted: [string, TopicSettings][] = plans.map((p) => [p.topic, settings]);
  wanted.push([checkpointTopic, { ...settings, partitions: 1, configs: { 'cleanup.policy': 'compact' } }]);
  for (const [topic, topicSettings] of wanted) {
    try {
      if (await ensureTopic(config, topic, topicSettings, 'client')) log('info', 'created topic', { topic, partitions: topicSettings.partitions, replication: topicSettings.replicationFactor });
    } catch (err) {
      if (isAuthorization(err)) throw new FinkError(`topic ${topic} does not exist and user ${config.get('KAFKA_SASL_USERNAME') ?? ''} may not create it: create it with 'fink_kafka --create-topic ${topic}' or grant the right`);
      throw err;
    }
  }
  const limits = await messageLimits(config, plans.map((p) => p.topic), 'client').catch(() => new Map<string, number>());
  log('info', 'distribution starting', { id, topics: plans.map((p) => p.topic).join(','), batch: batchSize, mode: options.untilCaughtUp === true ? 'until-caught-up' : 'continuous' });

  const reader = openReader(config.require('SCIENCE_DB_PATH'));
  const wire = new WireSchemas((schemaId) => reader.schemaJson(schemaId));
  const files = new SchemaFiles(config.require('DISTRIBUTION_SCHEMA'));
  const target = options.untilCaughtUp === true ? reader.head() : undefined;
  const partitions = new Map<string, number>();
  const summary: DistributionSummary = { alerts: 0, batches: 0, seconds: 0, topics: {}, filterErrors: 0, skipped: 0, checkpoint: {} };
  for (const p of plans) summary.topics[p.topic] = { messages: 0, bytes: 0 };

  const fencedMessage = `another instance with DISTRIBUTION_ID=${id} started and fenced this one; it carries on from the last committed batch`;
  let producer: BufferProducer | undefined;
  let tx: Transaction | undefined;
  /**
   * When the transaction in flight was first sent (the coordinator starts its clock later);
   * undefined while nothing has been sent in it, so that it can be cancelled rather than aborted.
   */
  let txOpenedAt: number | undefined;
  /** This instance's producer session as the coordinator last confirmed it. */
  let identity: ProducerIdentity | undefined;
  let checkpoint: Checkpoint = {};
  let distributed = 0;
  let outageSince: number | undefined;
  let outageWarned = false;
  let backoff = 500;
  let lastProgress = performance.now();
  let progressAlerts = 0;
  let progressBytes = 0;

  const closeProducer = async () => {
    if (tx !== undefined) {
      await (txOpenedAt !== undefined ? tx.abort() : tx.cancel()).catch(() => {});
      tx = undefined;
    }
    await producer?.close().catch(() => {});
    producer = undefined;
  };

  /**
   * A transactional producer session, then the last committed checkpoint. Starting a session
   * fences any other instance, which is right at start and wrong after an error if a newer
   * instance fenced this one meanwhile without the client saying so (Kafka 4.2 can answer a commit
   * racing with a newer instance's start UNKNOWN_SERVER_ERROR): so a session after an error first
   * asks the coordinator, read-only, whether the producer epoch moved further than this instance
   * explains. It explains one step when a transaction of its own has been open longer than the
   * transaction timeout: the coordinator aborts such a transaction with a new epoch.
   */
  const openSession = async () => {
    producer = createTransactionalProducer(config, id, `fink-distribution-${id}`);
    if (identity !== undefined) {
      const now = await describeTransaction(producer, id);
      const timedOut = txOpenedAt !== undefined && Date.now() - txOpenedAt > TRANSACTION_TIMEOUT_MS;
      const explained = now === undefined || (now.producerId === identity.producerId && now.producerEpoch <= identity.producerEpoch + (timedOut ? 1 : 0));
      if (!explained) throw new FencedError(fencedMessage);
    }
    tx = await producer.beginTransaction();
    identity = producerIdentity(producer);
    txOpenedAt = undefined;
    const saved = await readCheckpoint(config, checkpointTopic, id, 60_000);
    checkpoint = saved?.checkpoint ?? {};
    distributed = saved?.alerts ?? 0;
    const stores = reader.identities();
    const kept: Record<string, number> = {};
    for (const [night, seq] of Object.entries(checkpoint)) {
      const was = saved?.stores?.[night];
      if (was === undefined || stores[night] === undefined || was === stores[night]) kept[night] = seq;
      else log('warn', 'the science database of this night is not the one the checkpoint was taken on: distributing the night from its first alert', { night, checkpoint_store: was, store: stores[night] });
    }
    checkpoint = kept;
    log('info', saved === null ? 'no checkpoint yet: from the first alert' : 'resuming after the last committed batch', { alerts_before: distributed, checkpoint: JSON.stringify(checkpoint) });
    const meta = await producer.metadata({ topics: plans.map((p) => p.topic), forceUpdate: true });
    for (const p of plans) partitions.set(p.topic, meta.topics.get(p.topic)?.partitionsCount ?? 1);
  };

  const skip = (alert: StoredAlert, topic: string, bytes: number, limit: number) => {
    mkdirSync(stateDir, { recursive: true });
    appendFileSync(join(stateDir, 'skipped.jsonl'), JSON.stringify({ candid: String(alert.fields.candid), objectId: alert.fields.objectId, topic, bytes, limit, at: new Date().toISOString() }) + '\n');
    summary.skipped++;
    metrics.countError('oversize');
    log('warn', 'alert larger than the topic accepts: skipped', { candid: alert.fields.candid, topic, bytes, limit, record: join(stateDir, 'skipped.jsonl') });
  };

  /** Messages of a batch, in one pass over the alerts. */
  const buildMessages = (alerts: readonly StoredAlert[]): Message[] => {
    const messages: Message[] = [];
    for (const alert of alerts) {
      for (const plan of plans) {
        if (plan.filter !== null) {
          let match = false;
          try {
            match = plan.filter.filter(alert.fields) === true;
          } catch (err) {
            summary.filterErrors++;
            metrics.countError('filter');
            log('warn', 'filter threw: alert counted as not matching', { filter: plan.filter.name, candid: alert.fields.candid, error: (err as Error).message });
          }
          if (!match) continue;
        }
        const schema = wire.forAlert(alert, plan.drop);
        for (const file of files.ensure(schema, plan.topic, plan.drop.length > 0)) log('info', 'schema file written', { file, fingerprint: schema.fingerprint, topic: plan.topic });
        const value = schema.encode(alert);
        const bytes = schema.key.length + value.length;
        const limit = limits.get(plan.topic) ?? 1_048_588;
        // Record and batch headers, and lz4's frame on incompressible data.
        if (bytes + 200 + bytes / 100 > limit) {
          if (oversize === 'skip') {
            skip(alert, plan.topic, bytes, limit);
            continue;
          }
          throw new FinkError(`alert ${alert.fields.candid} (${alert.fields.objectId}) is ${bytes} bytes, more than topic ${plan.topic} accepts (max.message.bytes=${limit}); nothing of its batch was committed. Raise the topic's max.message.bytes, or set DISTRIBUTION_OVERSIZE=skip to skip such alerts with a record`);
        }
        const count = partitions.get(plan.topic) ?? 1;
        messages.push({ topic: plan.topic, key: schema.key, value, partition: positive(murmur2(alert.fields.objectId)) % count });
      }
    }
    return messages;
  };

  /** Sends messages in waves, each under WAVE_BYTES (or the topic's limit) per partition, order kept. */
  const sendAll = async (transaction: Transaction, messages: Message[]) => {
    const queues = new Map<string, Message[]>();
    for (const m of messages) {
      const key = `${m.topic}/${m.partition}`;
      let q = queues.get(key);
      if (q === undefined) queues.set(key, (q = []));
      q.push(m);
    }
    const cursors = new Map([...queues.keys()].map((k) => [k, 0]));
    const inFlight: Promise<unknown>[] = [];
    for (;;) {
      const wave: Message[] = [];
      for (const [key, q] of queues) {
        let at = cursors.get(key)!;
        const budget = Math.min(WAVE_BYTES, (limits.get(q[0]!.topic) ?? 1_048_588) - 100);
        let used = 0;
        while (at < q.length) {
          const size = q[at]!.key!.length + q[at]!.value!.length + 100;
          if (used > 0 && used + size > budget) break;
          wave.push(q[at]!);
          used += size;
          at++;
        }
        cursors.set(key, at);
      }
      if (wave.length === 0) break;
      txOpenedAt ??= Date.now();
      // Waves go out back to back: the connection keeps up to five requests in flight, in order,
      // so the broker writes one while the next is on the wire.
      inFlight.push(transaction.send({ messages: wave }));
    }
    await Promise.all(inFlight);
  };

  const aborted = () => options.signal?.aborted === true;

  try {
    while (!aborted()) {
      try {
        if (producer === undefined) await openSession();
        if (outageSince !== undefined) {
          if (outageWarned) log('info', 'Kafka is back', { after_s: ((Date.now() - outageSince) / 1000).toFixed(1) });
          outageSince = undefined;
          outageWarned = false;
          backoff = 500;
        }
        if (target !== undefined && reached(checkpoint, target)) break;
        const batchStart = performance.now();
        const { alerts, checkpoint: next } = reader.read(checkpoint, batchSize, target);
        if (alerts.length === 0) {
          metrics.lag = 0;
          if (target !== undefined) break;
          await sleep(pollMs, undefined, { signal: options.signal }).catch(() => {});
          continue;
        }
        const messages = buildMessages(alerts);
        tx ??= await producer!.beginTransaction();
        await sendAll(tx, messages);
        const saved = { checkpoint: next, stores: reader.identities(), alerts: distributed + alerts.length, at: new Date().toISOString() };
        await tx.send({ messages: [checkpointMessage(checkpointTopic, id, saved)] });
        await tx.commit();
        tx = undefined;
        txOpenedAt = undefined;
        // Clients on transactions version 2 get a new epoch with every commit.
        identity = producerIdentity(producer!) ?? identity;
        // Committed: only now does the batch count.
        checkpoint = next;
        distributed = saved.alerts;
        summary.alerts += alerts.length;
        summary.batches++;
        metrics.alerts += alerts.length;
        metrics.batches++;
        metrics.batchSecondsSum += (performance.now() - batchStart) / 1000;
        for (const m of messages) {
          const bytes = m.key!.length + m.value!.length;
          metrics.countMessage(m.topic, bytes);
          summary.topics[m.topic]!.messages++;
          summary.topics[m.topic]!.bytes += bytes;
          progressBytes += bytes;
        }
        progressAlerts += alerts.length;
        const now = performance.now();
        if (now - lastProgress >= (options.progressEvery ?? 5) * 1000) {
          metrics.lag = reader.lag(checkpoint);
          const seconds = (now - lastProgress) / 1000;
          log('info', 'progress', { alerts: summary.alerts, alerts_per_s: (progressAlerts / seconds).toFixed(0), mb_per_s: (progressBytes / seconds / 1e6).toFixed(1), lag: metrics.lag });
          lastProgress = now;
          progressAlerts = 0;
          progressBytes = 0;
        }
      } catch (err) {
        if (err instanceof FinkError || !isKafkaError(err)) throw err;
        if (isFenced(err)) throw new FencedError(fencedMessage);
        if (isAuthorization(err)) throw new FinkError(`Kafka refused an operation of user ${config.get('KAFKA_SASL_USERNAME') ?? '(none)'}: ${(err as Error).message} (${errorIds(err).join(', ')})`);
        metrics.countError('kafka');
        // Whatever happened to the batch in flight, the checkpoint in Kafka says whether it was
        // committed: start over from a new session.
        await closeProducer();
        outageSince ??= Date.now();
        // A transaction coordinator that is still being elected or loading (a new cluster, a
        // restart) is not worth a warning unless it lasts.
        const settling = errorIds(err).length > 0 && errorIds(err).every((e) => COORDINATOR_SETTLING.has(e));
        if (!outageWarned && (!settling || Date.now() - outageSince > 10_000)) {
          outageWarned = true;
          log('warn', 'Kafka unavailable: retrying with backoff, nothing is lost', { error: (err as Error).message, ids: [...new Set(errorIds(err))].join(',') || undefined });
        }
        await sleep(backoff, undefined, { signal: options.signal }).catch(() => {});
        backoff = Math.min(backoff * 2, 15_000);
      }
    }
  } finally {
    await closeProducer();
    reader.close();
  }
  summary.seconds = (performance.now() - started) / 1000;
  summary.checkpoint = checkpoint;
  log('info', 'distribution stopped', { alerts: summary.alerts, batches: summary.batches, seconds: summary.seconds.toFixed(1), filter_errors: summary.filterErrors, skipped: summary.skipped });
  return summary;
}
