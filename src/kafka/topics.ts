// Topic administration through the Kafka admin API.
import { ConfigResourceTypes } from '@platformatic/kafka';
import type { Config } from '../config/config.ts';
import { withAdmin } from './client-options.ts';
import { errorIds } from './errors.ts';

export interface TopicSettings {
  partitions: number;
  replicationFactor: number;
  /** Topic configuration, e.g. cleanup.policy=compact. */
  configs?: Record<string, string>;
}

/** Creates the topic unless it exists; says whether it created it. `who`: whose credentials. */
export async function ensureTopic(config: Config, name: string, settings: TopicSettings, who: 'client' | 'admin' = 'admin'): Promise<boolean> {
  return withAdmin(config, async (admin) => {
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
  }, undefined, who);
}

/** The largest record batch each topic accepts (its max.message.bytes). */
export async function messageLimits(config: Config, topics: readonly string[], who: 'client' | 'admin' = 'admin'): Promise<Map<string, number>> {
  return withAdmin(config, async (admin) => {
    const described = await admin.describeConfigs({ resources: topics.map((name) => ({ resourceType: ConfigResourceTypes.TOPIC, resourceName: name, configurationKeys: ['max.message.bytes'] })) });
    const limits = new Map<string, number>();
    for (const resource of described) {
      const entry = resource.configs.find((c) => c.name === 'max.message.bytes');
      if (entry?.value != null) limits.set(resource.resourceName, Number(entry.value));
    }
    return limits;
  }, undefined, who);
}

export async function listTopics(config: Config): Promise<string[]> {
  return withAdmin(config, async (admin) => (await admin.listTopics()).sort());
}

/** Deletes the topic; false when it did not exist. */
export async function deleteTopic(config: Config, name: string): Promise<boolean> {
  return withAdmin(config, async (admin) => {
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

export async function describeTopic(config: Config, name: string): Promise<TopicDescription | undefined> {
  return withAdmin(config, async (admin) => {
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
