// What the distribution service reads of the configuration, resolved once at the entry point, so
// that the service's signature says what it uses and no key is looked up by name further in.
import type { Config } from '../config/config.ts';
import { UsageError } from '../errors.ts';
import { kafkaClientOptions, type KafkaConnection } from '../kafka/client-options.ts';
import type { TopicSettings } from '../kafka/topics.ts';
import type { TopicSelection } from './topics.ts';

export interface DistributionSettings {
  /** The service's identity: its transactional id and the key of its checkpoint. */
  id: string;
  /** The service's own connection (its user in secured mode). */
  connection: KafkaConnection;
  /** The user of `connection`, for messages. */
  user: string | undefined;
  scienceDbPath: string;
  topics: TopicSelection;
  /** How the service creates the topics it fills when they are missing. */
  newTopics: TopicSettings;
  checkpointTopic: string;
  batchSize: number;
  pollMs: number;
  /** An alert larger than its topic accepts: stop, or skip it with a record in `stateDir`. */
  oversize: 'stop' | 'skip';
  stateDir: string;
  /** DISTRIBUTION_SCHEMA: the newest schema file, beside which every version is kept. */
  schemaFile: string;
}

function newTopicSettings(config: Config): TopicSettings {
  const replicationFactor = config.int('DISTRIBUTION_REPLICATION');
  const minIsr = config.int('DISTRIBUTION_MIN_ISR');
  if (minIsr > replicationFactor) throw new UsageError(`DISTRIBUTION_MIN_ISR=${minIsr} is more than DISTRIBUTION_REPLICATION=${replicationFactor}: no message could ever be written`);
  return { partitions: config.int('DISTRIBUTION_PARTITIONS'), replicationFactor, configs: { 'min.insync.replicas': String(minIsr) } };
}

export function distributionSettings(config: Config): DistributionSettings {
  return {
    id: config.require('DISTRIBUTION_ID'),
    connection: kafkaClientOptions(config),
    user: config.get('KAFKA_SASL_USERNAME'),
    scienceDbPath: config.require('SCIENCE_DB_PATH'),
    topics: { testTopic: config.require('DISTRIBUTION_TEST_TOPIC'), prefix: config.get('SUBSTREAM_PREFIX') ?? '', wanted: config.list('DISTRIBUTION_TOPICS'), filtersDir: config.require('FILTERS_DIR') },
    newTopics: newTopicSettings(config),
    checkpointTopic: config.require('DISTRIBUTION_CHECKPOINT_TOPIC'),
    batchSize: config.int('DISTRIBUTION_BATCH'),
    pollMs: config.int('DISTRIBUTION_POLL_MS'),
    oversize: config.require('DISTRIBUTION_OVERSIZE') === 'skip' ? 'skip' : 'stop',
    stateDir: config.require('DISTRIBUTION_STATE_DIR'),
    schemaFile: config.require('DISTRIBUTION_SCHEMA'),
  };
}
