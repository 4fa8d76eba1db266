// Topic administration through the Kafka admin API.
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigResourceTypes, type Admin } from '@platformatic/kafka';
import { Backoff } from '../backoff.ts';
import { withAdmin, type KafkaConnection } from './client-options.ts';
import { errorIds, isUnknownTopic, walkErrors } from './errors.ts';

export interface TopicSettings {
  partitions: number;
  replicationFactor: number;
  /** Topic configuration, e.g. cleanup.policy=compact. */
  configs?: Record<string, string>;
}

/** How long a topic just created is given for its partitions to be led (generous: a broker with a busy disk opens a hundred partitions' logs in seconds). */
const LEADERS_DEADLINE_MS = 60_000;

/**
 * Creates the topic unless it exists; says whether it created it. A topic it created is returned
 * once every partition's leader answers for it (or after LEADERS_DEADLINE_MS): the controller has
 * recorded the topic when createTopics returns, but its broker may not have opened the partitions'
 * logs yet (about a second for a hundred partitions on an idle machine, longer with a busy disk),
 * and a transaction written into them at once is then refused NOT_LEADER_OR_FOLLOWER on every
 * retry of the producer: the service would abort its first batch there.
 */
export async function ensureTopic(connection: KafkaConnection, name: string, settings: TopicSettings): Promise<boolean> {
  const created = await withAdmin(connection, async (admin) => {
    const existing = await admin.listTopics();
    if (existing.includes(name)) return false;
    const configs = Object.entries(settings.configs ?? {}).map(([name, value]) => ({ name, value }));
    try {
      await admin.createTopics({ topics: [name], partitions: settings.partitions, replicas: settings.replicationFactor, configs });
    } catch (err) {
      // Another process (a second instance starting) created it in the meantime.
      if (errorIds(err).includes('TOPIC_ALREADY_EXISTS')) return false;
      throw err;
    }
    return true;
  });
  // Asked without the client's own retries, which wait a second each: the loop below paces itself.
  if (created) await withAdmin(connection, (admin) => partitionsLed(admin, name, settings.partitions), { retries: 0, timeout: 10_000 });
  return created;
}

/** The answers of a topic whose partitions are not all led yet (the metadata may not even list it). */
const NOT_LED = new Set(['NOT_LEADER_OR_FOLLOWER', 'LEADER_NOT_AVAILABLE', 'UNKNOWN_LEADER_EPOCH', 'FENCED_LEADER_EPOCH']);

function notLedYet(err: unknown): boolean {
  if (isUnknownTopic(err) || errorIds(err).some((id) => NOT_LED.has(id))) return true;
  let unknownPartition = false;
  walkErrors(err, (e) => (unknownPartition ||= (e as { message?: unknown }).message === 'Unknown partition.'));
  return unknownPartition;
}

/**
 * Waits until the leader of each of the topic's partitions answers ListOffsets for it, or the
 * deadline passes. Only a courtesy to the first writes, which are retried as any refused send when
 * it is not enough: so the deadline, or any other answer (a user who may create the topic but not
 * describe it), ends the wait rather than failing the creation.
 */
async function partitionsLed(admin: Admin, topic: string, partitions: number, deadlineMs = LEADERS_DEADLINE_MS): Promise<void> {
  const request = { topics: [{ name: topic, partitions: Array.from({ length: partitions }, (_, partitionIndex) => ({ partitionIndex, timestamp: -1n })) }] };
  const deadline = Date.now() + deadlineMs;
  const backoff = new Backoff(20, 1000);
  for (;;) {
    try {
      await admin.listOffsets(request);
      return;
    } catch (err) {
      const wait = backoff.next();
      if (!notLedYet(err) || Date.now() + wait > deadline) return;
      await sleep(wait);
    }
  }
}

/** Kafka's own default max.message.bytes, for a topic whose configuration is not known (or may not be read). */
export const DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;

/** The largest record batch each topic accepts (its max.message.bytes). */
export async function messageLimits(connection: KafkaConnection, topics: readonly string[]): Promise<Map<string, number>> {
  return withAdmin(connection, async (admin) => {
    const described = await admin.describeConfigs({ resources: topics.map((name) => ({ resourceType: ConfigResourceTypes.TOPIC, resourceName: name, configurationKeys: ['max.message.bytes'] })) });
    const limits = new Map<string, number>();
    for (const resource of described) {
      const entry = resource.configs.find((c) => c.name === 'max.message.bytes');
      if (entry?.value != null) limits.set(resource.resourceName, Number(entry.value));
    }
    return limits;
  });
}

export async function listTopics(connection: KafkaConnection): Promise<string[]> {
  return withAdmin(connection, async (admin) => (await admin.listTopics()).sort());
}

/** Deletes the topic; false when it did not exist. */
export async function deleteTopic(connection: KafkaConnection, name: string): Promise<boolean> {
  return withAdmin(connection, async (admin) => {
    if (!(await admin.listTopics()).includes(name)) return false;
    await admin.deleteTopics({ topics: [name] });
    return true;
  });
}

export interface TopicDescription {
  name: string;
  id: string;
  partitions: Array<{ partition: number; leader: number; replicas: number[]; isr: number[] }>;
}

export async function describeTopic(connection: KafkaConnection, name: string): Promise<TopicDescription | undefined> {
  return withAdmin(connection, async (admin) => {
    if (!(await admin.listTopics()).includes(name)) return undefined;
    const meta = await admin.metadata({ topics: [name], forceUpdate: true });
    const topic = meta.topics.get(name);
    if (topic === undefined) return undefined;
    return {
      name,
      id: topic.id,
      partitions: topic.partitions.map((p, partition) => ({ partition, leader: p.leader, replicas: p.replicas, isr: p.isr })),
    };
  });
}

/** The bytes a topic's log segments take on the brokers, every replica counted (what compression saves shows here). */
export async function topicLogBytes(connection: KafkaConnection, name: string): Promise<number> {
  return withAdmin(connection, async (admin) => {
    const meta = await admin.metadata({ topics: [name], forceUpdate: true });
    const partitions = meta.topics.get(name)?.partitions.map((_, i) => i) ?? [];
    const brokers = await admin.describeLogDirs({ topics: [{ name, partitions }] });
    let total = 0n;
    for (const broker of brokers) for (const dir of broker.results) for (const topic of dir.topics) for (const p of topic.partitions) total += p.partitionSize;
    return Number(total);
  });
}
