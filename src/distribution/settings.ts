// What the distribution service reads of the configuration, resolved once at the entry point, so
// that the service's signature says what it uses and no key is looked up by name further in.
import type { Config } from '../config/config.ts';
import { UsageError } from '../errors.ts';
import { kafkaClientOptions, schemaRegistryUrl, type KafkaConnection } from '../kafka/client-options.ts';
import { fileSystemSpace } from '../cluster/disk.ts';
import type { TopicSettings } from '../kafka/topics.ts';
import type { Compression } from '../kafka/transactional-producer.ts';
import type { TopicSelection } from './topics.ts';
import { patternEntries, type PatternEntry } from '../config/topic-patterns.ts';
import { redactUrl } from '../avro/schema-registry.ts';

/** fink: the writer schema in the key (fink-client's contract); confluent: the object id in the key, a registry's schema id in the value. */
export type WireFormat = 'fink' | 'confluent';
const WIRE_FORMATS: readonly WireFormat[] = ['fink', 'confluent'];

/** Where each topic's format comes from, and the registry of the confluent format. */
export interface FormatSettings {
  /** DISTRIBUTION_FORMAT: a topic's format when no entry names it. */
  default: WireFormat;
  /** DISTRIBUTION_FORMAT_TOPICS: the first entry whose pattern matches the whole topic name wins. */
  topics: readonly PatternEntry<WireFormat>[];
  /** DISTRIBUTION_SCHEMA_REGISTRY: set whenever some topic may be confluent. */
  registry: string | undefined;
  /** DISTRIBUTION_SCHEMA_COMPATIBILITY: set on a subject when the service creates it. */
  compatibility: string;
}

export interface DistributionSettings {
  /** The service's identity: its transactional id and the key of its checkpoint. */
  id: string;
  /** The service's own connection (its user in secured mode). */
  connection: KafkaConnection;
  /** How record batches are compressed. */
  compression: Compression;
  /** Of the topics that drop fields. */
  lightCompression: Compression;
  /** The user of `connection`, for messages. */
  user: string | undefined;
  scienceDbPath: string;
  topics: TopicSelection;
  /** How the service creates the topics it fills when they are missing (retention.bytes aside: see `sizedTopics`). */
  newTopics: TopicSettings;
  /** retention.bytes per partition of new topics: a fixed number, or derived from the free space under this folder. */
  retentionBytes: { bytes: number } | { freeSpaceOf: string };
  checkpointTopic: string;
  batchSize: number;
  /** At most this many bytes of alerts per batch. */
  batchBytes: number;
  pollMs: number;
  /** An alert larger than its topic accepts: stop, or skip it with a record in `stateDir`. */
  oversize: 'stop' | 'skip';
  stateDir: string;
  /** DISTRIBUTION_SCHEMA: the newest schema file, beside which every version is kept. */
  schemaFile: string;
  /** Group mode (the science log): the consumer group the instances form; undefined: one instance with a checkpoint. */
  group: string | undefined;
  /** SCIENCE_STORE: where the alerts are read from. */
  scienceStore: 'sqlite' | 'kafka';
  /** SCIENCE_TOPIC_PREFIX: the science log's topics. */
  sciencePrefix: string;
  /** SCIENCE_DEDUP_WINDOW: offsets of a partition within which a second record of an alert is a duplicate (0: none is). */
  dedupWindow: number;
  /** USER_FILTERS_TOPIC: the registrations of user filters, whose topics the service fills too. */
  userFiltersTopic: string;
  /** USER_FILTER_USAGE_TOPIC: what each instance's user filters sent (user-usage.ts). */
  userFilterUsageTopic: string;
  /** USER_TOPIC_PREFIX: a registration's topic must be `<prefix><owner>_<name>_<survey>`. */
  userTopicPrefix: string;
  /** USER_FILTER_QUOTA_MB: a user filter's quota a night when its registration has none; null: none. */
  userFilterQuotaMb: number | null;
  format: FormatSettings;
}

function newTopicSettings(config: Config): TopicSettings {
  const replicationFactor = config.int('DISTRIBUTION_REPLICATION');
  const minIsr = config.int('DISTRIBUTION_MIN_ISR');
  if (minIsr > replicationFactor) throw new UsageError(`DISTRIBUTION_MIN_ISR=${minIsr} is more than DISTRIBUTION_REPLICATION=${replicationFactor}: no message could ever be written`);
  const configs = {
    'min.insync.replicas': String(minIsr),
    'max.message.bytes': String(config.int('DISTRIBUTION_MAX_MESSAGE_BYTES')),
    'retention.ms': String(config.int('DISTRIBUTION_RETENTION_HOURS') * 3_600_000),
  };
  return { partitions: config.int('DISTRIBUTION_PARTITIONS'), replicationFactor, configs };
}

/** Of the free space, the share the service's topics may fill: the rest is for everything else on that disk. */
export const FREE_SPACE_SHARE = 0.5;
const MiB = 1024 * 1024;

/**
 * The settings of `topics` new topics, retention.bytes and segment.bytes included. Kafka deletes
 * whole closed segments only, so a partition holds up to retention.bytes plus one segment: segments
 * are a quarter of the retention (at least a largest message, at most Kafka's 1 GiB), and without a
 * configured retention the free space's share is split between every partition replica of these
 * topics (all the managed cluster's nodes share the machine's disk), each taking retention + segment.
 */
export function sizedTopics(settings: DistributionSettings, topics: number): TopicSettings {
  const { newTopics } = settings;
  const largest = Math.max(MiB, Number(newTopics.configs?.['max.message.bytes'] ?? MiB));
  const segmentOf = (retention: number) => Math.min(1024 * MiB, Math.max(largest, Math.floor(retention / 4)));
  let retention: number;
  if ('bytes' in settings.retentionBytes) {
    retention = settings.retentionBytes.bytes;
  } else {
    const replicas = Math.max(1, topics) * newTopics.partitions * newTopics.replicationFactor;
    const share = Math.floor((fileSystemSpace(settings.retentionBytes.freeSpaceOf).free * FREE_SPACE_SHARE) / replicas);
    retention = Math.max(MiB, Math.floor(share / 1.25));
  }
  return { ...newTopics, configs: { ...newTopics.configs, 'retention.bytes': String(retention), 'segment.bytes': String(segmentOf(retention)) } };
}

function formatSettings(config: Config): FormatSettings {
  const format: FormatSettings = {
    default: config.enum('DISTRIBUTION_FORMAT'),
    topics: patternEntries(config.list('DISTRIBUTION_FORMAT_TOPICS'), 'DISTRIBUTION_FORMAT_TOPICS', WIRE_FORMATS),
    // In secured mode the service registers as its own Kafka user (client-options.ts says why).
    registry: schemaRegistryUrl(config, 'write'),
    compatibility: config.enum('DISTRIBUTION_SCHEMA_COMPATIBILITY'),
  };
  const confluent = format.default === 'confluent' ? 'DISTRIBUTION_FORMAT=confluent' : format.topics.some((e) => e.value === 'confluent') ? 'DISTRIBUTION_FORMAT_TOPICS names confluent' : undefined;
  if (confluent !== undefined && format.registry === undefined) throw new UsageError(`${confluent} but DISTRIBUTION_SCHEMA_REGISTRY is not set: the confluent format needs a schema registry for its schema ids`);
  // Checked here: a running service waits for a registry that does not answer, never for a URL that cannot be one.
  if (format.registry !== undefined && !URL.canParse(format.registry)) throw new UsageError(`DISTRIBUTION_SCHEMA_REGISTRY: ${redactUrl(format.registry)} is not a URL`);
  return format;
}

export function distributionSettings(config: Config): DistributionSettings {
  return {
    id: config.require('DISTRIBUTION_ID'),
    connection: kafkaClientOptions(config),
    compression: config.enum('DISTRIBUTION_COMPRESSION'),
    lightCompression: config.enum('DISTRIBUTION_LIGHT_COMPRESSION'),
    user: config.get('KAFKA_SASL_USERNAME'),
    scienceDbPath: config.require('SCIENCE_DB_PATH'),
    topics: { testTopic: config.require('DISTRIBUTION_TEST_TOPIC'), prefix: config.get('SUBSTREAM_PREFIX') ?? '', wanted: config.list('DISTRIBUTION_TOPICS'), filtersDir: config.require('FILTERS_DIR') },
    newTopics: newTopicSettings(config),
    retentionBytes: config.get('DISTRIBUTION_RETENTION_BYTES') === undefined ? { freeSpaceOf: config.require('KAFKA_STATE_DIR') } : { bytes: config.int('DISTRIBUTION_RETENTION_BYTES') },
    checkpointTopic: config.require('DISTRIBUTION_CHECKPOINT_TOPIC'),
    batchSize: config.int('DISTRIBUTION_BATCH'),
    batchBytes: config.int('DISTRIBUTION_BATCH_BYTES'),
    pollMs: config.int('DISTRIBUTION_POLL_MS'),
    oversize: config.enum('DISTRIBUTION_OVERSIZE'),
    stateDir: config.require('DISTRIBUTION_STATE_DIR'),
    schemaFile: config.require('DISTRIBUTION_SCHEMA'),
    group: config.get('DISTRIBUTION_GROUP'),
    scienceStore: config.enum('SCIENCE_STORE'),
    sciencePrefix: config.require('SCIENCE_TOPIC_PREFIX'),
    dedupWindow: config.int('SCIENCE_DEDUP_WINDOW'),
    userFiltersTopic: config.require('USER_FILTERS_TOPIC'),
    userFilterUsageTopic: config.require('USER_FILTER_USAGE_TOPIC'),
    userTopicPrefix: config.require('USER_TOPIC_PREFIX'),
    userFilterQuotaMb: config.get('USER_FILTER_QUOTA_MB') === undefined ? null : config.int('USER_FILTER_QUOTA_MB'),
    format: formatSettings(config),
  };
}
