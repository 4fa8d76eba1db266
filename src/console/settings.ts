// What the console reads of the configuration, resolved once at the entry point, as the two
// services do: the page's address, the topics it follows, the science database, and where the
// distribution service's checkpoint and metrics are.
import type { Config } from '../config/config.ts';
import { kafkaClientOptions, type KafkaConnection } from '../kafka/client-options.ts';

export interface ConsoleSettings {
  /** The console reads as the service's user does (its user in secured mode). */
  connection: KafkaConnection;
  /** DISTRIBUTION_SCHEMA: the newest schema file, beside which every version is kept. */
  schemaBase: string;
  testTopic: string;
  /** Science topics are those whose name starts with this. */
  prefix: string;
  scienceDb: string;
  /** The distribution service's Prometheus endpoint, when it serves one. */
  metricsPort: number | undefined;
  /** Where the page listens. */
  host: string;
  port: number;
  /** The distribution service's checkpoint: its topic, and the service id that keys it. */
  checkpointTopic: string;
  serviceId: string;
}

export function consoleSettings(config: Config): ConsoleSettings {
  return {
    connection: kafkaClientOptions(config),
    schemaBase: config.require('DISTRIBUTION_SCHEMA'),
    testTopic: config.require('DISTRIBUTION_TEST_TOPIC'),
    prefix: config.require('SUBSTREAM_PREFIX'),
    scienceDb: config.require('SCIENCE_DB_PATH'),
    metricsPort: config.optionalInt('DISTRIBUTION_METRICS_PORT'),
    host: config.require('CONSOLE_HOST'),
    port: config.int('CONSOLE_PORT'),
    checkpointTopic: config.require('DISTRIBUTION_CHECKPOINT_TOPIC'),
    serviceId: config.require('DISTRIBUTION_ID'),
  };
}
