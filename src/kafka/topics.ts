// Topic administration through the Kafka admin API.
import type { Config } from '../config/config.ts';
import { withAdmin } from './client-options.ts';

export interface TopicSettings {
  partitions: number;
  replicationFactor: number;
}

/** Creates the topic unless it exists; says whether it created it. */
export async function ensureTopic(config: Config, name: string, settings: TopicSettings): Promise<boolean> {
  return withAdmin(config, async (admin) => {
    const existing = await admin.listTopics();
    if (existing.includes(name)) return false;
    await admin.createTopics({ topics: [name], partitions: settings.partitions, replicas: settings.replicationFactor });
    return true;
  });
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
