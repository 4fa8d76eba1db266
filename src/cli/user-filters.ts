// `fink filter add|list|remove`: the registrations of user filters (issue 23), kept in the cluster's
// USER_FILTERS_TOPIC (src/userfilter/registrations.ts). `add` checks everything before it writes
// anything: the names, the condition (compiled as the distribution will compile it), that the
// filter is new; then it creates the user's topic as the community topics are made, and registers.
import type { Survey } from '../alert/survey.ts';
import { grant, revoke, roleAcls } from '../cluster/security.ts';
import { clusterSettings } from '../cluster/settings.ts';
import type { Config } from '../config/config.ts';
import { distributionSettings } from '../distribution/settings.ts';
import { readUsage, sumUsage, type NightUsage } from '../distribution/user-usage.ts';
import { FinkError } from '../errors.ts';
import { kafkaClientOptions, type KafkaConnection } from '../kafka/client-options.ts';
import { classifyKafkaError } from '../kafka/errors.ts';
import { ensureTopic, type TopicSettings } from '../kafka/topics.ts';
import { printable } from '../printable.ts';
import { compileCondition } from '../userfilter/condition.ts';
import { nameProblem, PUBLIC_OWNER, registrationKey, userTopic, type Content, type Registration } from '../userfilter/registration.ts';
import { changeRegistration, ensureRegistrationsTopic, readRegistrations, type RegistrationSet } from '../userfilter/registrations.ts';
import type { Predicate } from '../userfilter/scope.ts';

export interface AddRequest {
  name: string;
  owner: string | undefined;
  survey: Survey;
  where: string;
  content: Content;
  quotaMb: number | null;
}

/** A refusal of what the user asked: one line, exit 2, nothing written. */
function refused(message: string): FinkError {
  return new FinkError(message, { exitCode: 2, code: 'FINK_USAGE' });
}

function checkName(what: 'name' | 'owner', value: string): void {
  const problem = nameProblem(what, value);
  if (problem !== undefined) throw refused(`filter ${what}: ${problem}`);
}

interface Store {
  connection: KafkaConnection;
  topic: string;
}

function storeOf(config: Config): Store {
  return { connection: kafkaClientOptions(config), topic: config.require('USER_FILTERS_TOPIC') };
}

async function current(store: Store): Promise<RegistrationSet> {
  return reported(store, await readRegistrations(store.connection, store.topic));
}

/** The set, once its records that are not registrations are named on stderr. */
function reported(store: Store, set: RegistrationSet): RegistrationSet {
  for (const i of set.ignored) process.stderr.write(`fink: passed over a record of ${store.topic}/${i.partition}@${i.offset} (key ${printable(i.key ?? 'none')}): ${i.reason}\n`);
  return set;
}

/** The user's topic as the community topics are made: DISTRIBUTION_PARTITIONS, _REPLICATION, _MIN_ISR, _MAX_MESSAGE_BYTES, _RETENTION_HOURS (and _RETENTION_BYTES when set). */
function userTopicSettings(config: Config): TopicSettings {
  const settings = distributionSettings(config);
  const { newTopics, retentionBytes } = settings;
  if (!('bytes' in retentionBytes)) return newTopics;
  return { ...newTopics, configs: { ...newTopics.configs, 'retention.bytes': String(retentionBytes.bytes) } };
}

interface Rights {
  cluster: ReturnType<typeof clusterSettings>;
  /** The owner's: READ and DESCRIBE on the topic, READ on groups `<owner>-`. */
  owner: (owner: string, topic: string) => ReturnType<typeof roleAcls>;
  /** The distribution's own user (KAFKA_SASL_USERNAME): WRITE and DESCRIBE on the topic, which it fills. */
  service: (topic: string) => ReturnType<typeof roleAcls>;
}

/**
 * In secured mode the owner is a Kafka user, who reads the filter's topic and uses the consumer
 * groups that start with `<owner>-` (fink_kafka's consumer role), and the distribution's user writes
 * the topic (the topic rights of the producer role: its transactional ids and idempotence are the
 * operator's grant, once); in open mode there are no rights.
 */
function rightsOf(config: Config): Rights | undefined {
  const cluster = clusterSettings(config, 'distribution');
  if (!cluster.secured) return undefined;
  const serviceUser = config.require('KAFKA_SASL_USERNAME');
  return {
    cluster,
    owner: (owner, topic) => roleAcls(owner, { consumer: `${owner}-` }, topic),
    service: (topic) => roleAcls(serviceUser, { producer: true }, topic).filter((a) => a.resourceName === topic),
  };
}

async function createTopic(connection: KafkaConnection, topic: string, settings: TopicSettings): Promise<void> {
  try {
    await ensureTopic(connection, topic, settings);
  } catch (err) {
    if (classifyKafkaError(err) === 'unauthorized') throw new FinkError(`topic ${topic} does not exist and Kafka's user may not create it: create it with 'fink_kafka --create-topic ${topic}' or grant the right`);
    throw err;
  }
}

/** Registers a filter; returns its registration (the topic is what the user reads). */
export async function addFilter(config: Config, request: AddRequest, predicates: readonly Predicate[]): Promise<Registration> {
  const rights = rightsOf(config);
  if (rights !== undefined && request.owner === undefined) throw refused('--owner USER is required in secured mode: the Kafka user who will read the topic');
  const owner = request.owner ?? PUBLIC_OWNER;
  checkName('name', request.name);
  checkName('owner', owner);
  // A condition that is not valid reaches no broker: ConditionError, exit 2, one line.
  compileCondition(request.where, request.survey, { predicates });
  const store = storeOf(config);
  const topic = userTopic(config.require('USER_TOPIC_PREFIX'), owner, request.name, request.survey);
  const settings = distributionSettings(config).newTopics;
  await ensureRegistrationsTopic(store.connection, store.topic, { replicationFactor: settings.replicationFactor, minIsr: Number(settings.configs?.['min.insync.replicas'] ?? 1) });
  const filter = { owner, name: request.name, survey: request.survey };
  // Checked and written in one transaction of the filter's own: of two adds at once, one fails.
  const change = await changeRegistration(store.connection, store.topic, filter, async (set) => {
    const { registrations } = reported(store, set);
    if (registrations.has(registrationKey(owner, request.name, request.survey))) throw refused(`filter ${request.name} of ${owner} for ${request.survey} exists already: 'fink filter remove ${request.name} --owner ${owner} --survey ${request.survey}' removes it`);
    // Names may hold underscores, so two owners' filters could spell the same topic: the first keeps it.
    const other = [...registrations.values()].find((r) => r.topic === topic);
    if (other !== undefined) throw refused(`topic ${topic} is already filled by filter ${other.name} of ${other.owner}: choose another name`);
    await createTopic(store.connection, topic, userTopicSettings(config));
    if (rights !== undefined) await grant(rights.cluster, [...rights.owner(owner, topic), ...rights.service(topic)]);
    const registration: Registration = { ...filter, where: request.where, content: request.content, quotaMb: request.quotaMb, created: new Date().toISOString(), topic };
    return { registration, value: registration };
  });
  return change.registration;
}

/** Every registration, in the order they were written. */
export async function listFilters(config: Config): Promise<Registration[]> {
  return [...(await current(storeOf(config))).registrations.values()];
}

/** What the filters sent in one night, by `<owner>/<name>/<survey>`. */
export interface NightSent {
  /** `--night`, else the latest night any filter sent something; null when none has yet. */
  night: string | null;
  byFilter: Map<string, NightUsage>;
}

/**
 * What the filters sent `night` (default: the latest night with any), summed over the records of
 * every distribution instance in USER_FILTER_USAGE_TOPIC; null when no distribution has reported
 * (the topic does not exist yet).
 */
export async function sentOfNight(config: Config, night?: string): Promise<NightSent | null> {
  const topic = config.require('USER_FILTER_USAGE_TOPIC');
  let read: Awaited<ReturnType<typeof readUsage>>;
  try {
    read = await readUsage(kafkaClientOptions(config), topic);
  } catch (err) {
    if (classifyKafkaError(err) !== 'unauthorized') throw err;
    // The registrations are still worth listing: the figures are left out, and why is said.
    process.stderr.write(`fink: Kafka's user may not read ${topic} (USER_FILTER_USAGE_TOPIC): sent and bytes left out; grant it 'fink_kafka --authorization -a -u USER -c fink-reader -t ${topic}'\n`);
    return null;
  }
  if (read === null) return null;
  for (const i of read.ignored) process.stderr.write(`fink: passed over a record of ${topic}/${i.partition}@${i.offset} (key ${printable(i.key ?? 'none')}): ${i.reason}\n`);
  const total = sumUsage(read.records.values());
  const nights = Object.values(total).flatMap((n) => Object.keys(n));
  const chosen = night ?? (nights.length === 0 ? null : nights.reduce((a, b) => (a > b ? a : b)));
  const byFilter = new Map<string, NightUsage>();
  if (chosen !== null) for (const [filter, n] of Object.entries(total)) if (n[chosen] !== undefined) byFilter.set(filter, n[chosen]);
  return { night: chosen, byFilter };
}

/** Removes a filter's registration and, in secured mode, the owner's rights (its topic stays until retention, the distribution's WRITE on it too); returns what was removed. */
export async function removeFilter(config: Config, name: string, owner: string | undefined, survey: Survey): Promise<Registration> {
  const who = owner ?? PUBLIC_OWNER;
  checkName('name', name);
  checkName('owner', who);
  const store = storeOf(config);
  const rights = rightsOf(config);
  const change = await changeRegistration(store.connection, store.topic, { owner: who, name, survey }, async (set) => {
    const { registrations } = reported(store, set);
    const found = registrations.get(registrationKey(who, name, survey));
    if (found === undefined) throw refused(`no filter ${name} of ${who} for ${survey}: 'fink filter list' lists them`);
    // The owner's rights first: should the tombstone then fail, the filter is still listed and
    // removing it again completes it; the other way round, rights would outlive a filter that no
    // longer shows. The owner's groups stay theirs while another filter of theirs remains.
    if (rights !== undefined) {
      const others = [...registrations.values()].some((r) => r.owner === who && r !== found);
      const acls = rights.owner(who, found.topic);
      await revoke(rights.cluster, others ? acls.filter((a) => a.resourceName === found.topic) : acls);
    }
    return { registration: found, value: null };
  });
  // The distribution's WRITE on the topic stays: a batch begun before the tombstone may still be
  // writing to it, and a refused write would stop the service for a user's remove. A right on a
  // topic that nothing feeds any more gives nothing; `add` of the same filter finds it in place.
  const removed = change.registration;
  return removed;
}
