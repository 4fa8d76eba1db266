// The topics of user filters (`fink filter add`), filled by the running distribution beside the
// shipped filters' topics: the registrations (USER_FILTERS_TOPIC) are looked at once per batch,
// after the batch is read and before it is built, and read again and compiled only when the
// topic's end moved. A registration whose condition no longer compiles (a field renamed since) is
// logged once and skipped; a condition that throws for an alert is a non-match, counted per filter
// and logged at most once a minute per filter. Their messages go in the batch's transaction like
// every other topic's, which is what makes them exactly once. So does each instance's record of
// what its filters sent (user-usage.ts): a group member reads its own back whenever its session
// opens anew, and, when a filter has a quota, the others' once per batch as their topic moves.
import { randomBytes } from 'node:crypto';
import { Consumer } from '@platformatic/kafka';
import type { Survey } from '../alert/survey.ts';
import type { Compression } from '../kafka/transactional-producer.ts';
import { FinkError } from '../errors.ts';
import { classifyKafkaError } from '../kafka/errors.ts';
import { closeQuietly } from '../kafka/client-options.ts';
import { DEFAULT_MAX_MESSAGE_BYTES, listTopics, messageLimits } from '../kafka/topics.ts';
import type { Message, TransactionalSession } from '../kafka/transactional-session.ts';
import type { Logger } from '../log.ts';
import { compileCondition } from '../userfilter/condition.ts';
import { userTopic, type Registration } from '../userfilter/registration.ts';
import { readRegistrations, registrationsVersion } from '../userfilter/registrations.ts';
import type { Predicate } from '../userfilter/scope.ts';
import type { TopicTarget } from './batch.ts';
import type { Filter } from './filters.ts';
import type { Metrics } from './metrics.ts';
import { QuotaLedger, type QuotaUsage } from './user-quota.ts';
import { ensureUsageTopic, ledgerParts, sumUsage, usageKey, UsageFollower, usageMessage, usageOf } from './user-usage.ts';
import type { DistributionSettings } from './settings.ts';
import type { TopicPlan } from './topics.ts';

/** What `content: light` leaves out, per survey: the cutouts and the histories, as filters/light.ts and filters/rubin_light.ts. */
export const LIGHT_DROP: Readonly<Record<Survey, readonly string[]>> = {
  ztf: ['cutoutScience', 'cutoutTemplate', 'cutoutDifference', 'prv_candidates'],
  lsst: ['cutoutDifference', 'cutoutScience', 'cutoutTemplate', 'prvDiaSources', 'prvDiaForcedSources'],
};

const NO_FIELDS: readonly string[] = [];
/** Quotas are in megabytes of 10^6 bytes. */
const MB = 1_000_000;
/** A throwing condition is logged at most this often per filter (it is counted every time). */
const ERROR_LOG_MS = 60_000;

/** The shipped filters as the predicates a condition may name. */
export function predicatesOf(filters: readonly Filter[]): Predicate[] {
  return filters.map((f) => ({ name: f.name, survey: f.survey, description: f.description, test: f.filter as (fields: never) => boolean }));
}

/** Creates the topics that are missing and says what each accepts (service.ts prepareTopics, handed in: service.ts uses this module). */
export type PrepareTopics = (plans: readonly TopicPlan[]) => Promise<Map<string, number>>;

export class UserTopics {
  readonly #settings: DistributionSettings;
  readonly #prepare: PrepareTopics;
  readonly #predicates: readonly Predicate[];
  readonly #log: Logger;
  readonly #metrics: Metrics;
  #reader: Consumer | undefined;
  /** The registrations topic's end when last read; -1: never read. */
  #version = -1n;
  #plans: TopicPlan[] = [];
  /** The plans by topic: compressionOf is asked for every topic of every send. */
  #byTopic = new Map<string, TopicPlan>();
  #targets: TopicTarget[] | undefined;
  /** Topics created or found, with what each accepts. */
  readonly #limits = new Map<string, number>();
  /** `key\ncondition` (or `key\ntopic`) of registrations already logged as passed over. */
  readonly #refused = new Set<string>();
  /** Whether the service's user was refused the registrations topic, and said so. */
  #refusedTopic = false;
  /** When each filter's throwing condition was last logged. */
  readonly #errorLogged = new Map<string, number>();
  readonly #quota = new QuotaLedger();
  /** This instance's record in the usage topic. */
  readonly #usageKey: string;
  /** Group mode: the usage topic, followed (a single instance restores from its checkpoint). */
  readonly #follower: UsageFollower | undefined;
  /** Whether the usage topic was made sure of. */
  #usageTopic = false;
  /** The filters with a quota, among the plans. */
  readonly #withQuota = new Set<string>();
  /** Whether this session's usage was read back (group mode). */
  #resumed = false;

  /** `group`: the consumer group of group mode, undefined for the single instance. */
  constructor(settings: DistributionSettings, prepare: PrepareTopics, predicates: readonly Predicate[], log: Logger, metrics: Metrics, group?: string) {
    this.#settings = settings;
    this.#prepare = prepare;
    this.#predicates = predicates;
    this.#log = log;
    this.#metrics = metrics;
    this.#usageKey = usageKey(settings.id, group);
    this.#follower = group === undefined ? undefined : new UsageFollower(settings.connection, settings.userFilterUsageTopic, `fink-distribution-${settings.id}-usage`, log);
  }

  /**
   * The user filters' targets for the batch just read. Asked after the read: every registration
   * whose `add` returned before an alert of the batch was stored is in the registrations topic's
   * end by then, so that alert meets the filter (asked before the read, a registration landing
   * between the question and the read would miss the alerts stored meanwhile).
   */
  async targets(session: TransactionalSession): Promise<TopicTarget[]> {
    try {
      return await this.#current(session);
    } catch (err) {
      if (classifyKafkaError(err) !== 'unauthorized') throw err;
      // In secured mode a service user without rights on the registrations topic fills the
      // community topics as before: said once, asked again with every batch.
      if (!this.#refusedTopic) this.#log('warn', `user filters not filled: user ${this.#settings.user ?? '(none)'} may not read ${this.#settings.userFiltersTopic}; grant it READ and DESCRIBE on that topic (and WRITE on the user topics)`, { error: (err as Error).message });
      this.#refusedTopic = true;
      return [];
    }
  }

  async #current(session: TransactionalSession): Promise<TopicTarget[]> {
    const { connection } = this.#settings;
    // No retries: the client retries a topic it does not know (no filter registered yet, the
    // usual case) for seconds before answering, and this question comes with every batch. Any
    // other failure fails the batch, which is built again as after any Kafka error.
    this.#reader ??= new Consumer({ clientId: `fink-distribution-${this.#settings.id}-user-filters`, groupId: `fink-user-filters-${randomBytes(6).toString('hex')}`, ...connection, retries: 0, timeout: 30_000 });
    const version = await registrationsVersion(connection, this.#settings.userFiltersTopic, this.#reader);
    if (version !== this.#version) {
      const read = await readRegistrations(connection, this.#settings.userFiltersTopic);
      for (const r of read.ignored) this.#log('warn', 'a record of the user filters topic is not a registration: passed over', { topic: this.#settings.userFiltersTopic, partition: r.partition, offset: r.offset, key: r.key ?? '(none)', reason: r.reason });
      this.#withQuota.clear();
      this.#plans = [...read.registrations.entries()].flatMap(([key, r]) => this.#plan(key, r));
      this.#byTopic = new Map(this.#plans.map((p) => [p.topic, p]));
      this.#version = read.version;
      this.#targets = undefined;
      this.#log('info', 'user filters read', { version: String(read.version), topics: this.#plans.map((p) => p.topic).join(',') || '(none)' });
    }
    if (this.#plans.length > 0) await this.#followUsage();
    this.#targets ??= await this.#build(session);
    return this.#targets;
  }

  /**
   * The usage topic made sure of; in group mode, this instance's own record read back once a
   * session (all its earlier transactions ended), and the others' read again for the quotas.
   */
  async #followUsage(): Promise<void> {
    try {
      await this.#readUsage();
    } catch (err) {
      if (classifyKafkaError(err) !== 'unauthorized') throw err;
      // Said plainly and stopped: without its record of what it sent, no count would be exact.
      const { userFilterUsageTopic: topic, user } = this.#settings;
      throw new FinkError(`user ${user ?? '(none)'} may not use ${topic} (USER_FILTER_USAGE_TOPIC), where the distribution records what the user filters sent: have the admin create it ('fink_kafka --create-topic ${topic}') and grant 'fink_kafka --authorization -a -u ${user ?? 'USER'} -p -t ${topic}' and '-c fink-reader -t ${topic}'`);
    }
  }

  async #readUsage(): Promise<void> {
    const topic = this.#settings.userFilterUsageTopic;
    if (!this.#usageTopic) {
      const { replicationFactor, configs } = this.#settings.newTopics;
      if (await ensureUsageTopic(this.#settings.connection, topic, { replicationFactor, minIsr: Number(configs?.['min.insync.replicas'] ?? 1) })) this.#log('info', 'created topic', { topic, partitions: 1, 'cleanup.policy': 'compact' });
      this.#usageTopic = true;
    }
    const follower = this.#follower;
    if (follower === undefined) return;
    if (!this.#resumed) {
      await follower.refresh(true);
      const own = ledgerParts(follower.records.get(this.#usageKey) ?? {});
      this.#quota.restore(own.bytes, own.alerts);
      this.#resumed = true;
    } else if (this.#withQuota.size > 0) {
      await follower.refresh(false);
    } else return;
    this.#quota.setOthers(ledgerParts(sumUsage([...follower.records].flatMap(([key, usage]) => (key === this.#usageKey ? [] : [usage])))).bytes);
  }

  /** After a failure: partitions are asked again with the next session, and the batch's quota admissions are forgotten. */
  invalidate(): void {
    this.#targets = undefined;
    this.#quota.discard();
    this.#resumed = false;
  }

  /** The batch committed: its bytes count against the quotas, its alerts over quota are counted. */
  committed(): void {
    for (const [filter, n] of this.#quota.commit()) this.#metrics.userFilterOverQuota.set(filter, (this.#metrics.userFilterOverQuota.get(filter) ?? 0) + n);
  }

  /** The bytes sent per filter and night, the batch being built included: for the checkpoint written with it. */
  quotaUsage(): QuotaUsage {
    return this.#quota.usage();
  }

  /** The alerts sent per filter and night, as quotaUsage() the bytes. */
  quotaAlerts(): QuotaUsage {
    return this.#quota.alerts();
  }

  /** A new session resumed from a checkpoint: the quotas and counts stand where it says. */
  restoreQuota(usage: QuotaUsage, alerts?: QuotaUsage): void {
    this.#quota.restore(usage, alerts);
  }

  /**
   * This instance's usage record for the batch being built (nothing when the batch sent nothing to a
   * user topic): for its transaction. `bytes` and `alerts`: quotaUsage() and quotaAlerts(), when the
   * caller has them already.
   */
  usageMessages(bytes?: QuotaUsage, alerts?: QuotaUsage): Message[] {
    if (!this.#quota.pending) return [];
    return [usageMessage(this.#settings.userFilterUsageTopic, this.#usageKey, usageOf(bytes ?? this.#quota.usage(), alerts ?? this.#quota.alerts()))];
  }

  /** The compression of a user topic (light ones as the light topics), or undefined for another topic. */
  compressionOf(topic: string): Compression | undefined {
    const plan = this.#byTopic.get(topic);
    if (plan === undefined) return undefined;
    return plan.drop.length > 0 ? this.#settings.lightCompression : this.#settings.compression;
  }

  /** What a user topic accepts, or undefined for another topic. */
  limitOf(topic: string): number | undefined {
    return this.#limits.get(topic);
  }

  async close(): Promise<void> {
    if (this.#reader !== undefined) await closeQuietly(this.#reader);
    this.#reader = undefined;
    await this.#follower?.close();
  }

  #plan(key: string, r: Registration): TopicPlan[] {
    // The record's topic is not trusted: anyone who may write the registrations topic could name
    // the checkpoint topic or a community topic there.
    const topic = userTopic(this.#settings.userTopicPrefix, r.owner, r.name, r.survey);
    if (r.topic !== topic) {
      this.#refuseOnce(key, r.topic, 'skipped: its topic is not the one its owner, name and survey give', { expected: topic });
      return [];
    }
    try {
      const condition = compileCondition(r.where, r.survey, { predicates: this.#predicates, onError: (err) => this.#threw(key, err) });
      const quotaMb = r.quotaMb ?? this.#settings.userFilterQuotaMb;
      const ledger = this.#quota;
      // Every filter's sending is counted (fink filter list shows it), quota or not.
      const limit = quotaMb === null ? Infinity : quotaMb * MB;
      if (quotaMb !== null) this.#withQuota.add(key);
      const admit = (night: string, bytes: number) => ledger.admit(key, night, bytes, limit);
      return [{ topic: r.topic, filter: null, drop: r.content === 'light' ? LIGHT_DROP[r.survey] : NO_FIELDS, condition: { key, survey: r.survey, testRow: condition.testRow, admit } }];
    } catch (err) {
      this.#refuseOnce(key, r.where, 'does not compile any more: skipped, the others go on', { error: (err as Error).message });
      return [];
    }
  }

  /** Logs a registration passed over, once for what makes it so (the same record read again says nothing more). */
  #refuseOnce(key: string, what: string, why: string, fields: Record<string, string>): void {
    const seen = `${key}\n${what}`;
    if (this.#refused.has(seen)) return;
    this.#refused.add(seen);
    this.#log('warn', `a user filter ${why}`, { filter: key, ...fields });
  }

  /** What existing topics accept; Kafka's default when their configuration may not be read (DESCRIBE_CONFIGS), as service.ts prepareTopics does. */
  async #limitsOf(topics: readonly string[]): Promise<Map<string, number>> {
    if (topics.length === 0) return new Map();
    try {
      return await messageLimits(this.#settings.connection, topics);
    } catch (err) {
      this.#log('warn', "could not read the user topics' max.message.bytes: assuming Kafka's default", { default: DEFAULT_MAX_MESSAGE_BYTES, error: (err as Error).message });
      return new Map();
    }
  }

  #threw(key: string, err: unknown): void {
    this.#metrics.countUserFilterError(key);
    const now = Date.now();
    if (now - (this.#errorLogged.get(key) ?? -Infinity) < ERROR_LOG_MS) return;
    this.#errorLogged.set(key, now);
    this.#log('warn', 'a user filter threw for an alert: counted as not matching (logged once a minute per filter)', { filter: key, error: (err as Error).message, errors_so_far: this.#metrics.userFilterErrors.get(key) ?? 0 });
  }

  async #build(session: TransactionalSession): Promise<TopicTarget[]> {
    const fresh = this.#plans.filter((p) => !this.#limits.has(p.topic));
    if (fresh.length > 0) {
      // `fink filter add` made the topics: one listing and one question for their limits, rather
      // than an admin client per topic (100 filters took 0.2 to 0.3 s of CPU at every start).
      const listed = new Set(await listTopics(this.#settings.connection));
      const missing = fresh.filter((p) => !listed.has(p.topic));
      const limits = missing.length > 0 ? await this.#prepare(missing) : new Map<string, number>();
      for (const [topic, limit] of await this.#limitsOf(fresh.filter((p) => listed.has(p.topic)).map((p) => p.topic))) limits.set(topic, limit);
      for (const p of fresh) this.#limits.set(p.topic, limits.get(p.topic) ?? DEFAULT_MAX_MESSAGE_BYTES);
    }
    this.#metrics.declareTopics(this.#plans.map((p) => p.topic));
    const partitions = this.#plans.length === 0 ? new Map<string, number>() : await session.partitionCounts(this.#plans.map((p) => p.topic));
    return this.#plans.map((plan) => ({ plan, partitions: partitions.get(plan.topic) ?? 1, maxMessageBytes: this.#limits.get(plan.topic) ?? DEFAULT_MAX_MESSAGE_BYTES }));
  }
}
