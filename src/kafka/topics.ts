// Topic administration through the Kafka admin API.
import { ConfigResourceTypes } from '@platformatic/kafka';
import { withAdmin, type KafkaConnection } from './client-options.ts';
import { errorIds } from './errors.ts';

export interface TopicSettings {
  partitions: number;
  replicationFactor: number;
  /** Topic configuration, e.g. cleanup.policy=compact. */
  configs?: Record<string, string>;
}

/** Creates the topic unless it exists; says whether it created it. */
export async function ensureTopic(connection: KafkaConnection, name: string, settings: TopicSettings): Promise<boolean> {
  return withAdmin(connection, async (admin) => {
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
