// `fink db prune` with SCIENCE_STORE=kafka: the science log is pruned by Kafka itself, by its topics'
// retention (retention.ms, retention.bytes), deleting whole closed segments. Pruning is therefore
// reading or setting that retention on the survey topics that exist; the schemas topic is compacted
// and kept (an alert still in the log may name any schema in it).
import { ConfigResourceTypes, IncrementalAlterConfigOperationTypes } from '@platformatic/kafka';
import { SURVEYS } from '../alert/survey.ts';
import { withAdmin, type KafkaConnection } from '../kafka/client-options.ts';
import { scienceTopic } from './log-format.ts';

export interface TopicRetention {
  topic: string;
  /** retention.ms (-1: for ever). */
  ms: number;
  /** retention.bytes per partition (-1: no limit). */
  bytes: number;
}

async function scienceTopics(connection: KafkaConnection, prefix: string): Promise<string[]> {
  const existing = new Set(await withAdmin(connection, (admin) => admin.listTopics()));
  return SURVEYS.map((survey) => scienceTopic(prefix, survey)).filter((topic) => existing.has(topic));
}

/** The retention of each survey topic of the log that exists. */
export async function logRetention(connection: KafkaConnection, prefix: string): Promise<TopicRetention[]> {
  const topics = await scienceTopics(connection, prefix);
  if (topics.length === 0) return [];
  return withAdmin(connection, async (admin) => {
    const described = await admin.describeConfigs({ resources: topics.map((name) => ({ resourceType: ConfigResourceTypes.TOPIC, resourceName: name, configurationKeys: ['retention.ms', 'retention.bytes'] })) });
    return described.map((r) => {
      const value = (name: string) => Number(r.configs.find((c) => c.name === name)?.value ?? -1);
      return { topic: r.resourceName, ms: value('retention.ms'), bytes: value('retention.bytes') };
    });
  });
}

/** Sets retention.ms of every survey topic of the log that exists; returns those topics. */
export async function setLogRetention(connection: KafkaConnection, prefix: string, ms: number): Promise<string[]> {
  const topics = await scienceTopics(connection, prefix);
  if (topics.length === 0) return [];
  await withAdmin(connection, (admin) =>
    admin.incrementalAlterConfigs({
      resources: topics.map((name) => ({ resourceType: ConfigResourceTypes.TOPIC, resourceName: name, configs: [{ name: 'retention.ms', configOperation: IncrementalAlterConfigOperationTypes.SET, value: String(ms) }] })),
    }),
  );
  return topics;
}
