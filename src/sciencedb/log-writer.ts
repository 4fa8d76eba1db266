// The science log's writer (SCIENCE_STORE=kafka): alerts into their survey's topic, each at the
// partition of its object, in Kafka transactions, with the schemas they name written to the schemas
// topic before them. A transaction is all or nothing for every read_committed reader: the
// distribution sees a write whole, or not at all.
//
// Transactions are bounded by the caller (ingest and simulate write at most DISTRIBUTION_BATCH_BYTES
// of alerts each): the coordinator aborts a transaction open longer than TRANSACTION_TIMEOUT_MS,
// and one left open by a writer that died holds every read_committed reader of its partitions back
// until then, so a transaction is a few seconds of work, never a night's.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Survey } from '../alert/survey.ts';
import { FinkError } from '../errors.ts';
import { classifyKafkaError, errorIds, unreachableError } from '../kafka/errors.ts';
import { withAdmin } from '../kafka/client-options.ts';
import { partitionOf } from '../kafka/partitioner.ts';
import { DEFAULT_MAX_MESSAGE_BYTES, type TopicSettings } from '../kafka/topics.ts';
import { TransactionalSession, type Message } from '../kafka/transactional-session.ts';
import { encodeLogAlert, logKey } from './log-format.ts';
import type { ScienceLogSettings } from './log-settings.ts';
import { prepareSchemaTopic, prepareScienceTopic, type LogTopic } from './log-topics.ts';
import { planWaves } from '../kafka/waves.ts';
import { BatchArena } from '../kafka/record-batch.ts';
import type { NewAlert } from './store.ts';

/** How long a new writer waits for a transaction coordinator that is being elected or loading (a fresh cluster). */
const COORDINATOR_DEADLINE_MS = 60_000;
/** How long a writer whose cluster answered before retries a write through a broker lost (leaders and coordinators move). */
const OUTAGE_DEADLINE_MS = 300_000;
/** Answers of a cluster that is moving leaders, replicas or coordinators after a broker left: a write asked again goes through. */
const PASSING = new Set(['NOT_LEADER_OR_FOLLOWER', 'LEADER_NOT_AVAILABLE', 'NOT_ENOUGH_REPLICAS', 'NOT_ENOUGH_REPLICAS_AFTER_APPEND', 'REQUEST_TIMED_OUT', 'NOT_COORDINATOR', 'COORDINATOR_NOT_AVAILABLE', 'COORDINATOR_LOAD_IN_PROGRESS', 'CONCURRENT_TRANSACTIONS', 'UNKNOWN_TOPIC_OR_PARTITION']);

/**
 * A transactional id of its own for every writer process. A transactional id fences: a producer
 * starting with it ends the transactions of any earlier one. Writers of the log (ingests, simulations
 * on any number of hosts at once) have nothing to take over from each other: a writer that dies
 * leaves at most one open transaction, which the coordinator aborts after the transaction timeout.
 * So the id must never be another live writer's: the host, the process and random bytes (a pid is
 * reused, and containers share pids across hosts).
 */
export function writerTransactionalId(role: string): string {
  return `fink-${role}-${hostname()}-${process.pid}-${randomBytes(6).toString('hex')}`;
}

export interface LogWriterOptions {
  /** What writes (`ingest`, `simulate`): the start of the transactional id and the client id. */
  role: string;
  /** Told each topic the writer creates, with its settings. */
  onCreated?: (topic: string, settings: TopicSettings) => void;
  /**
   * A transactional id that fences (default: one of the process's own, see writerTransactionalId):
   * for a writer that takes over from another, such as stream2science's writer of an upstream
   * partition, so that the one that lost the partition cannot commit after the new one started.
   */
  transactionalId?: string;
  /** Told when a write is asked again through a broker lost (`onRetry(reason, waitMs)`). */
  onRetry?: (reason: string, waitMs: number) => void;
}

export class ScienceLogWriter {
  readonly #settings: ScienceLogSettings;
  #session: TransactionalSession;
  readonly #role: string;
  readonly #onCreated: (topic: string, settings: TopicSettings) => void;
  readonly #onRetry: (reason: string, waitMs: number) => void;
  readonly transactionalId: string;
  /** The id is the process's own: no other writer can fence this one. */
  readonly #ownId: boolean;
  #schemaTopic: LogTopic | undefined;
  readonly #topics = new Map<Survey, LogTopic>();
  /** Fingerprints of the schemas this writer has committed. */
  readonly #schemasWritten = new Set<string>();
  /** Sent in the transaction in flight: written once it commits, forgotten if it aborts. */
  readonly #schemasPending = new Set<string>();
  /** The cluster answered this writer (a write committed, or a broker listed the topics): a broker lost is waited out. */
  #answered = false;
  /**
   * The record values of the transaction in flight, reused once it is over (committed, aborted, or
   * the session closed: the client holds no message after that). A Rubin alert's value is 190 KB:
   * a new buffer each was, with the socket's chunks and the client's copies, what V8 started its
   * full collections on (it counts new buffers' bytes). At most the arena's keep (16 MiB, the
   * transaction's default bound) stays between transactions.
   */
  readonly #values = new BatchArena();

  constructor(settings: ScienceLogSettings, options: LogWriterOptions) {
    this.#settings = settings;
    this.#onCreated = options.onCreated ?? (() => {});
    this.#onRetry = options.onRetry ?? (() => {});
    this.#role = options.role;
    this.transactionalId = options.transactionalId ?? writerTransactionalId(options.role);
    this.#ownId = options.transactionalId === undefined;
    this.#session = this.#newSession();
  }

  /**
   * Writes `alerts`, and `extra` messages (their topic and partition given, such as a consumer's
   * positions), in one transaction; returns how many alerts were written. The log keeps every
   * write: an alert written twice is there twice, and distributed once (the distribution decides).
   */
  async write(alerts: readonly NewAlert[], extra: readonly Message[] = []): Promise<number> {
    if (alerts.length === 0 && extra.length === 0) return 0;
    const deadline = Date.now() + OUTAGE_DEADLINE_MS;
    for (let backoff = 500; ; backoff = Math.min(backoff * 2, 5000)) {
      try {
        await this.send(alerts, extra);
        await this.commit();
        this.#answered = true;
        return alerts.length;
      } catch (err) {
        await this.abort();
        if (!(await this.#passing(err)) || Date.now() + backoff > deadline) throw this.#named(err);
        this.#onRetry(`${(err as Error).message} (${errorIds(err).join(', ') || 'no answer'})`, backoff);
        await sleep(backoff);
      }
    }
  }

  /**
   * Whether a failed write is asked again: for a writer of its own id (ingest, simulate), when a
   * broker went away or the cluster is moving what it led, and some broker of the cluster answers
   * (a broker of three SIGKILLed stopped `fink simulate` with "Kafka does not answer": its leaders
   * and coordinators were still listed on the dead one). A Kafka of which no broker answers is named
   * at once. A commit whose answer was lost may have committed: the write asked again is then in the
   * log twice, side by side, which the distribution's dedup window passes over. A writer of a shared
   * id (stream2science) decides itself, from its positions.
   */
  async #passing(err: unknown): Promise<boolean> {
    if (!this.#ownId || err instanceof FinkError) return false;
    const failure = classifyKafkaError(err);
    const passing = failure === 'unreachable' || failure === 'settling' || (failure === 'answered' && errorIds(err).every((id) => PASSING.has(id)));
    if (!passing) return false;
    this.#answered ||= await withAdmin(this.#settings.connection, (admin) => admin.listTopics()).then(() => true, () => false);
    return this.#answered;
  }

  /**
   * Sends `alerts` and `extra` in the transaction in flight (begun if none is): the schemas the
   * alerts name that this writer has not written first, then the alerts, then `extra`. Nothing is
   * visible to a read_committed reader until `commit`.
   */
  async send(alerts: readonly NewAlert[], extra: readonly Message[] = []): Promise<void> {
    await this.#open();
    const topics = new Map<Survey, LogTopic>();
    for (const survey of new Set(alerts.map((a) => a.survey))) topics.set(survey, await this.#topic(survey));
    const schemaTopic = (this.#schemaTopic ??= await prepareSchemaTopic(this.#settings, this.#onCreated));
    const limits = new Map([schemaTopic, ...topics.values()].map((t) => [t.topic, t.limit]));
    const limitOf = (topic: string) => limits.get(topic) ?? DEFAULT_MAX_MESSAGE_BYTES;
    const schemas = this.#newSchemas(alerts, schemaTopic.topic);
    if (schemas.length > 0) await this.#session.send(planWaves(schemas, limitOf));
    const now = Date.now();
    const take = (size: number) => this.#values.take(size);
    const messages: Message[] = alerts.map((alert) => {
      const { topic, partitions } = topics.get(alert.survey)!;
      return { topic, partition: partitionOf(alert.objectKey, partitions), key: logKey(alert), value: encodeLogAlert(alert, now, take), timestamp: BigInt(now) };
    });
    // The alerts and `extra` in one call: their partitions added to the transaction in one request.
    messages.push(...extra);
    if (messages.length > 0) await this.#session.send(planWaves(messages, limitOf));
  }

  /** Commits the transaction in flight. */
  async commit(): Promise<void> {
    await this.#session.commit();
    this.#values.reset();
    for (const id of this.#schemasPending) this.#schemasWritten.add(id);
    this.#schemasPending.clear();
  }

  /** Aborts the transaction in flight (nothing of it is ever visible); the next send starts a new session. */
  async abort(): Promise<void> {
    this.#schemasPending.clear();
    await this.#session.close();
    this.#values.reset();
    // With an id of its own no other process can have fenced this one (see writerTransactionalId):
    // the next session starts afresh. With a shared id, the same session opens again, and first
    // asks the coordinator whether a newer writer took the id (FencedError).
    if (this.#ownId) this.#session = this.#newSession();
  }

  async close(): Promise<void> {
    this.#schemasPending.clear();
    await this.#session.close();
    this.#values.reset();
  }

  #newSession(): TransactionalSession {
    const { connection, compression } = this.#settings;
    return new TransactionalSession({ connection, transactionalId: this.transactionalId, clientId: `fink-${this.#role}`, compression });
  }

  /** The survey's topic, created and described once. */
  async #topic(survey: Survey): Promise<LogTopic> {
    let topic = this.#topics.get(survey);
    if (topic === undefined) this.#topics.set(survey, (topic = await prepareScienceTopic(this.#settings, survey, this.#onCreated)));
    return topic;
  }

  /** The schema records of `alerts` this writer has neither written nor sent in this transaction. */
  #newSchemas(alerts: readonly NewAlert[], topic: string): Message[] {
    const out: Message[] = [];
    const add = (id: string, json: string) => {
      if (this.#schemasWritten.has(id) || this.#schemasPending.has(id)) return;
      this.#schemasPending.add(id);
      out.push({ topic, partition: 0, key: Buffer.from(id, 'utf8'), value: Buffer.from(json, 'utf8') });
    };
    for (const alert of alerts) {
      add(alert.schemaId, alert.schemaJson);
      if (alert.added !== null) add(alert.added.schemaId, alert.added.schemaJson);
    }
    return out;
  }

  /**
   * A session with a transaction begun. On a fresh or restarted cluster the transaction coordinator
   * answers "not ready" for a while (seconds on a slow machine): waited out, to a deadline.
   */
  async #open(): Promise<void> {
    if (this.#session.isOpen) return;
    const deadline = Date.now() + COORDINATOR_DEADLINE_MS;
    for (let backoff = 100; ; backoff = Math.min(2000, backoff * 2)) {
      try {
        await this.#session.open();
        return;
      } catch (err) {
        await this.abort();
        if (classifyKafkaError(err) !== 'settling' || Date.now() > deadline) throw err;
        await sleep(backoff);
      }
    }
  }

  /** A Kafka that never answers, named with its servers; anything else as it came. */
  #named(err: unknown): unknown {
    if (err instanceof FinkError) return err;
    if (classifyKafkaError(err) === 'unreachable') return unreachableError(this.#settings.connection.bootstrapBrokers, err);
    return err;
  }
}
