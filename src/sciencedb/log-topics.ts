// The science log's topics as a writer needs them: created on first write with the settings asked
// (an existing topic is taken as it is: another writer, or the operator, made it), then what the
// writer must know of each: its partitions (an alert's place is partitionOf its object among them)
// and the largest record batch it accepts.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Survey } from '../alert/survey.ts';
import { FinkError } from '../errors.ts';
import { classifyKafkaError } from '../kafka/errors.ts';
import { DEFAULT_MAX_MESSAGE_BYTES, describeTopic, ensureTopic, messageLimits, type TopicSettings } from '../kafka/topics.ts';
import { schemaTopic, scienceTopic } from './log-format.ts';
import type { ScienceLogSettings } from './log-settings.ts';

/** How long a topic just created may take to show in the cluster's metadata. */
const METADATA_DEADLINE_MS = 60_000;

export interface LogTopic {
  topic: string;
  partitions: number;
  /** Its max.message.bytes. */
  limit: number;
}

export type Created = (topic: string, settings: TopicSettings) => void;

async function prepare(settings: ScienceLogSettings, topic: string, wanted: TopicSettings, created: Created): Promise<LogTopic> {
  const { connection } = settings;
  try {
    if (await ensureTopic(connection, topic, wanted)) created(topic, wanted);
  } catch (err) {
    if (classifyKafkaError(err) === 'unauthorized') throw new FinkError(`topic ${topic} does not exist and Kafka's user may not create it: create it with 'fink_kafka --create-topic ${topic}' or grant the right`);
    throw err;
  }
  // A topic just created reaches the brokers' metadata a moment later.
  const deadline = Date.now() + METADATA_DEADLINE_MS;
  let described = await describeTopic(connection, topic);
  for (let wait = 50; described === undefined || described.partitions.length === 0; wait = Math.min(1000, wait * 2)) {
    if (Date.now() > deadline) throw new FinkError(`topic ${topic} was created but ${connection.bootstrapBrokers.join(',')} did not list it within ${METADATA_DEADLINE_MS / 1000} s`);
    await sleep(wait);
    described = await describeTopic(connection, topic);
  }
  // Reading a topic's configuration needs DESCRIBE_CONFIGS, which a producer user may lack: then
  // Kafka's default, which only makes the waves smaller.
  const limits = await messageLimits(connection, [topic]).catch(() => new Map<string, number>());
  return { topic, partitions: described.partitions.length, limit: limits.get(topic) ?? DEFAULT_MAX_MESSAGE_BYTES };
}

/** A survey's topic, created if missing. */
export function prepareScienceTopic(settings: ScienceLogSettings, survey: Survey, created: Created): Promise<LogTopic> {
  return prepare(settings, scienceTopic(settings.prefix, survey), settings.scienceTopic, created);
}

/** The schemas topic, created if missing. */
export function prepareSchemaTopic(settings: ScienceLogSettings, created: Created): Promise<LogTopic> {
  return prepare(settings, schemaTopic(settings.prefix), settings.schemaTopic, created);
}

/**
 * stream2science's positions topic (SCIENCE_STORE=kafka), created if missing: compacted (the last
 * position of each key is all that counts), one partition, the schemas topic's replication.
 */
export function preparePositionsTopic(settings: ScienceLogSettings, topic: string, created: Created): Promise<LogTopic> {
  const { replicationFactor, configs = {} } = settings.schemaTopic;
  const wanted: TopicSettings = { partitions: 1, replicationFactor, configs: { 'cleanup.policy': 'compact', 'min.insync.replicas': configs['min.insync.replicas'] ?? '1' } };
  return prepare(settings, topic, wanted, created);
}
