// The registrations of user filters, kept in a compacted topic of the cluster (USER_FILTERS_TOPIC),
// so that every distribution instance, and every `fink filter` command, sees the same set: one
// record per filter keyed `<owner>/<name>/<survey>`, its registration as JSON, a tombstone once it
// is removed. Written by a plain idempotent producer (acks=all), not in transactions: a registration
// is one record, there is nothing to make atomic with it. Read at read_committed all the same (for
// records written outside transactions it is the same as read_uncommitted, and it stays right should
// a writer ever use transactions), to the end seen when reading starts.
import { ListOffsetTimestamps, FetchIsolationLevels, Producer, type Consumer } from '@platformatic/kafka';
import { closeQuietly, type KafkaConnection } from '../kafka/client-options.ts';
import { isUnknownTopic } from '../kafka/errors.ts';
import { newPartitionReader, readTopic, TopicMissingError } from '../kafka/topic-reader.ts';
import { ensureTopic } from '../kafka/topics.ts';
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

/** Removes a registration: a tombstone for its key. */
export async function removeRegistration(connection: KafkaConnection, topic: string, r: Pick<Registration, 'owner' | 'name' | 'survey'>): Promise<void> {
  await produce(connection, topic, registrationKey(r.owner, r.name, r.survey), null);
}
