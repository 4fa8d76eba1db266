// What the science log's writers and admin commands read of the configuration (SCIENCE_STORE=kafka),
// resolved once at the entry point, so that no key is looked up by name further in.
import type { Config } from '../config/config.ts';
import { UsageError } from '../errors.ts';
import { kafkaClientOptions, type KafkaConnection } from '../kafka/client-options.ts';
import type { TopicSettings } from '../kafka/topics.ts';
import type { Compression } from '../kafka/transactional-producer.ts';

/**
 * What a log record adds to the alert it carries, at most: the format byte, the envelope's ids,
 * night, fingerprints and typed fields (under 1 KB for either survey: test/sciencedb/log-writer
 * measures it on the real alerts), and the record's own key and lengths in its batch. 64 KiB leaves
 * room for fields added to the envelope later without a topic's limit changing.
 */
export const LOG_ENVELOPE_BYTES = 64 * 1024;

const MiB = 1024 * 1024;

export interface ScienceLogSettings {
  /** The cluster that holds the log (DISTRIBUTION_SERVERS), with the service's own credentials. */
  connection: KafkaConnection;
  /** SCIENCE_TOPIC_PREFIX: the topics are <prefix><survey> and <prefix>schemas. */
  prefix: string;
  /** How a writer creates a survey's topic when it is missing. */
  scienceTopic: TopicSettings;
  /** How a writer creates the schemas topic when it is missing (compacted, one partition). */
  schemaTopic: TopicSettings;
  /** SCIENCE_COMPRESSION: none by default, the log's whole alerts barely compress. */
  compression: Compression;
  /** At most this many bytes of alerts per transaction (DISTRIBUTION_BATCH_BYTES). */
  transactionBytes: number;
}

/**
 * The science topics' configuration. max.message.bytes: an alert that the community topics accept
 * (DISTRIBUTION_MAX_MESSAGE_BYTES, Rubin's own limit) fits the log with its envelope. Kafka deletes
 * closed segments only, so with a byte retention a segment is a quarter of it (at least the largest
 * record), as for the distribution's topics; otherwise Kafka's default segment.
 */
function scienceTopicSettings(config: Config, replicationFactor: number, minIsr: number): TopicSettings {
  const maxMessageBytes = config.int('DISTRIBUTION_MAX_MESSAGE_BYTES') + LOG_ENVELOPE_BYTES;
  const retentionBytes = config.int('SCIENCE_RETENTION_BYTES');
  const configs: Record<string, string> = {
    'min.insync.replicas': String(minIsr),
    'max.message.bytes': String(maxMessageBytes),
    'retention.ms': String(config.int('SCIENCE_RETENTION_MS')),
    'retention.bytes': String(retentionBytes),
  };
  if (retentionBytes >= 0) configs['segment.bytes'] = String(Math.min(1024 * MiB, Math.max(maxMessageBytes, Math.floor(retentionBytes / 4))));
  return { partitions: config.int('SCIENCE_PARTITIONS'), replicationFactor, configs };
}

export function scienceLogSettings(config: Config): ScienceLogSettings {
  const replicationFactor = config.int('DISTRIBUTION_REPLICATION');
  const minIsr = config.int('DISTRIBUTION_MIN_ISR');
  if (minIsr > replicationFactor) throw new UsageError(`DISTRIBUTION_MIN_ISR=${minIsr} is more than DISTRIBUTION_REPLICATION=${replicationFactor}: no message could ever be written`);
  const science = scienceTopicSettings(config, replicationFactor, minIsr);
  return {
    connection: kafkaClientOptions(config),
    prefix: config.get('SCIENCE_TOPIC_PREFIX') ?? '',
    scienceTopic: science,
    schemaTopic: {
      partitions: 1,
      replicationFactor,
      // A schema is a few to a few hundred KB; kept for ever (compaction keeps one record a fingerprint).
      configs: { 'cleanup.policy': 'compact', 'min.insync.replicas': String(minIsr), 'max.message.bytes': science.configs!['max.message.bytes']! },
    },
    compression: config.enum('SCIENCE_COMPRESSION'),
    transactionBytes: config.int('DISTRIBUTION_BATCH_BYTES'),
  };
}
