// The registrations of user filters, kept in a compacted topic of the cluster (USER_FILTERS_TOPIC),
// so that every distribution instance, and every `fink filter` command, sees the same set: one
// record per filter keyed `<owner>/<name>/<survey>`, its registration as JSON, a tombstone once it
// is removed. `fink filter add|remove` change a record in a transaction whose transactional id is
// the filter's own (changeRegistration): two commands changing one filter at once fence each other,
// so that of two concurrent adds one fails rather than both succeeding. Read at read_committed, to
// the end seen when reading starts.
import { setTimeout as sleep } from 'node:timers/promises';
import { ListOffsetTimestamps, FetchIsolationLevels, Producer, type Consumer } from '@platformatic/kafka';
import { FinkError } from '../errors.ts';
import { closeQuietly, type KafkaConnection } from '../kafka/client-options.ts';
import { classifyKafkaError, isUnknownTopic } from '../kafka/errors.ts';
import { newPartitionReader, readTopic, TopicMissingError } from '../kafka/topic-reader.ts';
import { ensureTopic } from '../kafka/topics.ts';
import { beginFirstTransaction, createTransactionalProducer } from '../kafka/transactional-producer.ts';
import { encodeRegistration, parseRegistration, registrationKey, type Registration } from './registration.ts';

/** A record of the registrations topic that is not a registration: named and passed over. */
export interface IgnoredRegistration {
  partition: number;
  offset: bigint;
  key: string | null;
  reason: string;
}

export interface RegistrationSet {
  /** By key (`<owner>/<name>/<survey>`), in the order they were last written. */
  registrations: Map<string, Registration>;
  /** The topic's end when it was read: a poller that sees registrationsVersion() move reads again. */
  version: bigint;
  ignored: IgnoredRegistration[];
}

/** Creates the registrations topic unless it exists: compacted (the last record of a key is the registration), one partition. */
export async function ensureRegistrationsTopic(connection: KafkaConnection, topic: string, replication: { replicationFactor: number; minIsr: number }): Promise<boolean> {
  return ensureTopic(connection, topic, {
    partitions: 1,
    replicationFactor: replication.replicationFactor,
    configs: { 'cleanup.policy': 'compact', 'min.insync.replicas': String(replication.minIsr) },
  });
}

/**
 * The current registrations, read to the topic's end at read_committed; a topic that does not
 * exist yet holds none (version 0). Each record is checked: a value that is not a registration, or
 * whose key is not its own, is in `ignored` rather than trusted.
 */
export async function readRegistrations(connection: KafkaConnection, topic: string, settleMs = 2000): Promise<RegistrationSet> {
  const registrations = new Map<string, Registration>();
  const ignored: IgnoredRegistration[] = [];
  let version = 0n;
  try {
    const onStableEnds = (ends: readonly bigint[]) => (version = ends.reduce((a, b) => a + b, 0n));
    for await (const m of readTopic(connection, topic, { settleMs, onStableEnds })) {
      const key = m.key?.toString('utf8') ?? null;
      if (key === null) {
        ignored.push({ partition: m.partition, offset: m.offset, key, reason: 'a record without a key' });
        continue;
      }
      if (m.value === null) {
        registrations.delete(key);
        continue;
      }
      const parsed = parseRegistration(key, m.value);
      if (typeof parsed === 'string') ignored.push({ partition: m.partition, offset: m.offset, key, reason: parsed });
      else {
        // Last written last: a registration written again moves to the end.
        registrations.delete(key);
        registrations.set(key, parsed);
      }
    }
  } catch (err) {
    if (!(err instanceof TopicMissingError)) throw err;
  }
  return { registrations, version, ignored };
}

/**
 * The topic's end at read_committed, cheaply (no records read): what readRegistrations' version
 * would be now. A caller asking once per batch passes its own long-lived `reader` (the
 * distribution does), saving a connection per question.
 */
export async function registrationsVersion(connection: KafkaConnection, topic: string, reader?: Consumer): Promise<bigint> {
  const consumer = reader ?? newPartitionReader(connection, 'fink-user-filters');
  try {
    const ends = await consumer.listOffsets({ topics: [topic], timestamp: ListOffsetTimestamps.LATEST, isolationLevel: FetchIsolationLevels.READ_COMMITTED });
    return (ends.get(topic) ?? []).reduce((a, b) => a + b, 0n);
  } catch (err) {
    if (isUnknownTopic(err)) return 0n;
    throw err;
  } finally {
    if (reader === undefined) await closeQuietly(consumer);
  }
}

/** A change of one filter's record: its new registration, or null for a tombstone. */
export interface RegistrationChange {
  registration: Registration;
  /** What is written: the registration, or null to remove it. */
  value: Registration | null;
}

/**
 * The transactional id of the commands that change one filter: `fink-filter-<owner>-<name>-<survey>`
 * (names hold no '-', so no two filters share one), after `<user>-` on a secured cluster, where the
 * producer role allows the user only the ids that start so.
 */
export function registrationTransactionalId(connection: KafkaConnection, r: Pick<Registration, 'owner' | 'name' | 'survey'>): string {
  const id = `fink-filter-${r.owner}-${r.name}-${r.survey}`;
  return connection.sasl === undefined ? id : `${connection.sasl.username}-${id}`;
}

/** How long a change committed may take to become readable (its markers written). */
const READABLE_DEADLINE_MS = 60_000;

/** The one line of the command that a concurrent one fenced. */
export const CONCURRENT_CHANGE = 'another add/remove of this filter ran at the same time; run it again';

/**
 * Reads the registrations and writes the record `decide` returns (nothing when it throws: its
 * refusal is thrown as is), in one transaction of the filter's transactional id. Starting the
 * producer fences any other command on the same filter and completes or aborts its transaction, and
 * the registrations are read after that: so a command whose write commits saw every write committed
 * before, and one fenced meanwhile fails with CONCURRENT_CHANGE, having written nothing. The topic
 * must exist (ensureRegistrationsTopic) for a write.
 */
export async function changeRegistration(connection: KafkaConnection, topic: string, filter: Pick<Registration, 'owner' | 'name' | 'survey'>, decide: (current: RegistrationSet) => Promise<RegistrationChange>): Promise<RegistrationChange> {
  const producer = createTransactionalProducer(connection, registrationTransactionalId(connection, filter), 'fink-user-filters');
  try {
    const tx = await beginFirstTransaction(producer);
    let read: RegistrationSet;
    let change: RegistrationChange;
    try {
      read = await readRegistrations(connection, topic);
      change = await decide(read);
    } catch (err) {
      await tx.cancel().catch(() => {});
      throw err;
    }
    const { owner, name, survey } = change.registration;
    const value = change.value === null ? null : encodeRegistration(change.value);
    // A tombstone is a record whose value is null; the client's types know only Buffers.
    const message = { topic, partition: 0, key: Buffer.from(registrationKey(owner, name, survey)), value: value as Buffer };
    let offset: bigint;
    try {
      await tx.addPartitions(await producer.metadata({ topics: [topic] }), [message]);
      const sent = await tx.send({ messages: [message] });
      // Without the broker's answer: the record comes after everything read, at `version` or later.
      offset = sent.offsets?.find((o) => o.topic === topic)?.offset ?? read.version;
      await tx.commit();
    } catch (err) {
      await tx.abort().catch(() => {});
      if (classifyKafkaError(err) === 'fenced') throw new FinkError(CONCURRENT_CHANGE, { code: 'FINK_FENCED' });
      throw err;
    }
    await untilReadable(connection, topic, offset);
    return change;
  } finally {
    await closeQuietly(producer);
  }
}

/**
 * Waits until the registrations' end at read_committed (registrationsVersion) is past `offset`. A
 * commit returns once the coordinator has decided it, and its markers reach the partition a moment
 * later: until then the record is not readable at read_committed, and a distribution asking in that
 * moment would distribute an alert stored after `add` returned without the filter.
 */
async function untilReadable(connection: KafkaConnection, topic: string, offset: bigint): Promise<void> {
  const reader = newPartitionReader(connection, 'fink-user-filters');
  try {
    const deadline = Date.now() + READABLE_DEADLINE_MS;
    while ((await registrationsVersion(connection, topic, reader)) <= offset) {
      if (Date.now() > deadline) throw new FinkError(`the change is committed to ${topic} but not readable at read_committed after ${READABLE_DEADLINE_MS / 1000} s; a running distribution takes it up once it is`);
      await sleep(20);
    }
  } finally {
    await closeQuietly(reader);
  }
}

async function produce(connection: KafkaConnection, topic: string, key: string, value: Buffer | null): Promise<void> {
  const producer = new Producer({ clientId: 'fink-user-filters', ...connection, idempotent: true, retries: 10, retryDelay: 500 });
  try {
    // A tombstone is a record whose value is null; the client's types know only Buffers.
    await producer.send({ messages: [{ topic, key: Buffer.from(key), value: value as Buffer }] });
  } finally {
    await closeQuietly(producer);
  }
}

/** Writes a registration (the topic must exist: ensureRegistrationsTopic). */
export async function writeRegistration(connection: KafkaConnection, topic: string, r: Registration): Promise<void> {
  await produce(connection, topic, registrationKey(r.owner, r.name, r.survey), encodeRegistration(r));
}
