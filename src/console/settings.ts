// What the console reads of the configuration, resolved once at the entry point, as the two
// services do: the page's address, the topics it follows, the science database, and where the
// distribution service's checkpoint and metrics are.
import { isIP } from 'node:net';
import type { Config } from '../config/config.ts';
import { FinkError } from '../errors.ts';
import { kafkaClientOptions, schemaRegistryUrl, type KafkaConnection } from '../kafka/client-options.ts';

export interface ConsoleSettings {
  /** The console reads as the service's user does (its user in secured mode). */
  connection: KafkaConnection;
  /** DISTRIBUTION_SCHEMA: the newest schema file, beside which every version is kept. */
  schemaBase: string;
  /** DISTRIBUTION_SCHEMA_REGISTRY: resolves the schema ids of messages in the Confluent wire format. */
  schemaRegistry: string | undefined;
  testTopic: string;
  /** Science topics are those whose name starts with this. */
  prefix: string;
  scienceDb: string;
  /** SCIENCE_STORE: with 'kafka', the panel shows the science log (its rates, the group's lag) and search is not offered. */
  store: 'sqlite' | 'kafka';
  /** SCIENCE_TOPIC_PREFIX: the science log's topics (not followed as community topics). */
  scienceTopicPrefix: string;
  /** The distribution's consumer group over the science log: DISTRIBUTION_GROUP, else the group of one named DISTRIBUTION_ID. */
  group: string;
  /** USER_FILTERS_TOPIC: the registrations of user filters, listed on the panel. */
  userFiltersTopic: string;
  /** USER_TOPIC_PREFIX: the user filters' topics, followed as the science topics are. */
  userTopicPrefix: string;
  /** USER_FILTER_QUOTA_MB: the quota of a user filter registered without one (undefined: none). */
  userFilterQuotaMb: number | undefined;
  /** The distribution service's Prometheus endpoint, when it serves one. */
  metricsPort: number | undefined;
  /** Where the page listens. */
  host: string;
  port: number;
  /** CONSOLE_TOKEN: when set, every request must carry it; required beyond loopback. */
  token: string | undefined;
  /** Live pages fed at once. */
  maxClients: number;
  /** The distribution service's checkpoint: its topic, and the service id that keys it. */
  checkpointTopic: string;
  serviceId: string;
}

export function consoleSettings(config: Config): ConsoleSettings {
  return {
    connection: kafkaClientOptions(config),
    schemaBase: config.require('DISTRIBUTION_SCHEMA'),
    schemaRegistry: schemaRegistryUrl(config, 'read'),
    testTopic: config.require('DISTRIBUTION_TEST_TOPIC'),
    prefix: config.require('SUBSTREAM_PREFIX'),
    scienceDb: config.require('SCIENCE_DB_PATH'),
    store: config.enum('SCIENCE_STORE'),
    scienceTopicPrefix: config.get('SCIENCE_TOPIC_PREFIX') ?? '',
    group: config.get('DISTRIBUTION_GROUP') || config.require('DISTRIBUTION_ID'),
    userFiltersTopic: config.require('USER_FILTERS_TOPIC'),
    userTopicPrefix: config.require('USER_TOPIC_PREFIX'),
    userFilterQuotaMb: config.optionalInt('USER_FILTER_QUOTA_MB'),
    metricsPort: config.optionalInt('DISTRIBUTION_METRICS_PORT'),
    host: config.require('CONSOLE_HOST'),
    port: config.int('CONSOLE_PORT'),
    token: config.get('CONSOLE_TOKEN') || undefined,
    maxClients: config.int('CONSOLE_MAX_CLIENTS'),
    checkpointTopic: config.require('DISTRIBUTION_CHECKPOINT_TOPIC'),
    serviceId: config.require('DISTRIBUTION_ID'),
  };
}

/** A name or address that only this machine reaches: localhost, 127.0.0.0/8, ::1. */
function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  return bare === '::1' || bare === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(bare);
}

const MIN_TOKEN_LENGTH = 16;

/**
 * The page shows the science stream and the service's state to whoever reaches it: bound beyond
 * loopback, only with a token (refused before listening otherwise); a token too short to resist
 * guessing is refused wherever the console listens.
 */
export function checkExposure(settings: Pick<ConsoleSettings, 'host' | 'token'>): void {
  if (settings.token !== undefined && settings.token.length < MIN_TOKEN_LENGTH) {
    throw new FinkError(`CONSOLE_TOKEN is too short (${settings.token.length} characters): give it ${MIN_TOKEN_LENGTH} or more (e.g. openssl rand -hex 24)`);
  }
  if (settings.token === undefined && !isLoopback(settings.host)) {
    throw new FinkError(`CONSOLE_HOST=${settings.host} is not a loopback address: set CONSOLE_TOKEN (16 characters or more) so that only its holders read the console, or keep CONSOLE_HOST=127.0.0.1 and reach it through an SSH tunnel (ssh -L 8480:127.0.0.1:8480 HOST)`);
  }
}
