// The clusters that fink_kafka manages, resolved once from the configuration at the entry point:
// the redistribution cluster (DISTRIBUTION_SERVERS, KAFKA_STATE_DIR) and the simulator cluster, the
// survey's side of the live chain (SIMULATOR_SERVERS, SIMULATOR_STATE_DIR), each with its schema
// registry (the redistribution cluster's started with --registry only). Both are run by the same
// code over these settings; no key is looked up further in.
import { join } from 'node:path';
import type { Config } from '../config/config.ts';
import { tlsConnection, tlsFiles, type KafkaConnection, type TlsFiles } from '../kafka/client-options.ts';
import { UsageError } from '../errors.ts';

export type ClusterName = 'distribution' | 'simulator';
export const CLUSTER_NAMES: readonly ClusterName[] = ['distribution', 'simulator'];

/** Where the managed Kafka's jars come from (provision.ts). */
export interface KafkaJars {
  /** An existing installation whose libs/ is used instead of the managed jars. */
  kafkaHome?: string;
  /** Where Maven puts the managed jars. */
  cacheDir: string;
  kafkaVersion: string;
}

/** A managed cluster's schema registry (registry.ts): the simulator's, or the redistribution cluster's. */
export interface RegistrySettings {
  /** Where Maven builds it. */
  cacheDir: string;
  version: string;
  /** Where its clients reach it: the simulator's is on 127.0.0.1, the redistribution cluster's on DISTRIBUTION_REGISTRY_HOST. */
  host: string;
  port: number;
  /** The keys of its address, for messages. */
  keys: { host?: 'DISTRIBUTION_REGISTRY_HOST'; port: 'REGISTRY_PORT' | 'DISTRIBUTION_REGISTRY_PORT' };
  heapOpts: string[];
  /** Its files: pid, log, Vert.x cache (and the gate's). */
  dir: string;
  /** Started by every `fink_kafka start` (the simulator's), or only with --registry. */
  withCluster: boolean;
  /** Secured mode: the gate in front of it that checks credentials (registry-gate.ts). */
  gate?: GateSettings;
}

/**
 * The gate of a secured cluster's registry: credentials are checked by the cluster's brokers (a
 * SCRAM handshake), so the registry's users are the cluster's and the gate keeps no secret.
 */
export interface GateSettings {
  /** open: anyone who reaches it reads; authenticated: any user of the cluster. */
  reads: 'open' | 'authenticated';
  /** The users that may write (register schemas, set compatibility, delete). */
  writers: string[];
  /** Where the brokers that check the credentials are, and the TLS files to reach them. */
  servers: string[];
  tls?: TlsFiles;
}

export interface ClusterSettings extends KafkaJars {
  name: ClusterName;
  /** The keys its servers and state folder come from, for messages. */
  keys: { servers: 'DISTRIBUTION_SERVERS' | 'SIMULATOR_SERVERS'; stateDir: 'KAFKA_STATE_DIR' | 'SIMULATOR_STATE_DIR' };
  /** The bootstrap servers; node i takes the first one's port + 2i. */
  servers: string[];
  /** Data, logs and pid files of its nodes; readable by its owner only. */
  stateDir: string;
  /** SASL_PLAINTEXT or SASL_SSL: SCRAM users and ACLs. */
  secured: boolean;
  /** SASL_SSL: the client listener over TLS. */
  tls?: ClusterTls;
  /**
   * The super user in secured mode. Its password is checked where it is used: `status` needs none,
   * and a missing one is named by what needs it.
   */
  admin?: { username: string; password: string | undefined };
  /** JVM heap options of each node. */
  heapOpts: string[];
  /** How long a start waits for the cluster to answer. */
  startTimeoutMs: number;
  /** message.max.bytes of the brokers: the largest alert a topic accepts. */
  maxMessageBytes: number;
  /** Its managed schema registry, stopped with it: the simulator's starts with it, the other with --registry. */
  registry?: RegistrySettings;
}

/** SASL_SSL: the brokers' keystore (generated once, or the operator's) and what the clients trust. */
export interface ClusterTls {
  /** The operator's PKCS12 keystore (KAFKA_SSL_KEYSTORE_*); unset: generated in the state folder. */
  keystore?: { file: string; password: string };
  /** The clients' files (KAFKA_SSL_CA_FILE and friends); fink_kafka's own admin clients use them too. */
  client: TlsFiles;
}

/** JVM options as a list (an empty value: none). */
const jvmOptions = (value: string | undefined): string[] => (value ?? '').split(/\s+/).filter((s) => s !== '');

/** The simulator cluster's registry, on 127.0.0.1:REGISTRY_PORT. */
export function registrySettings(config: Config): RegistrySettings {
  return {
    cacheDir: config.require('REGISTRY_CACHE_DIR'),
    version: config.require('REGISTRY_VERSION'),
    host: '127.0.0.1',
    port: config.int('REGISTRY_PORT'),
    keys: { port: 'REGISTRY_PORT' },
    heapOpts: jvmOptions(config.get('REGISTRY_HEAP_OPTS')),
    dir: join(config.require('SIMULATOR_STATE_DIR'), 'registry'),
    withCluster: true,
  };
}

/**
 * The redistribution cluster's registry (fink_kafka start --registry): the same build, its own
 * address and folder under KAFKA_STATE_DIR; behind a gate in secured mode.
 */
function distributionRegistrySettings(config: Config, secured: boolean, tls: TlsFiles | undefined): RegistrySettings {
  const writers = [config.require('KAFKA_ADMIN_USERNAME'), config.get('KAFKA_SASL_USERNAME') || undefined].filter((u) => u !== undefined);
  return {
    ...registrySettings(config),
    host: config.require('DISTRIBUTION_REGISTRY_HOST'),
    port: config.int('DISTRIBUTION_REGISTRY_PORT'),
    keys: { host: 'DISTRIBUTION_REGISTRY_HOST', port: 'DISTRIBUTION_REGISTRY_PORT' },
    dir: join(config.require('KAFKA_STATE_DIR'), 'registry'),
    withCluster: false,
    ...(secured ? { gate: { reads: config.enum('DISTRIBUTION_REGISTRY_READS'), writers: [...new Set(writers)], servers: config.list('DISTRIBUTION_SERVERS'), ...(tls === undefined ? {} : { tls }) } } : {}),
  };
}

/**
 * The settings of cluster `name`. The simulator cluster is always PLAINTEXT: it stands for the
 * survey's public stream, and the redistribution cluster's credentials are not its own.
 */
export function clusterSettings(config: Config, name: ClusterName): ClusterSettings {
  const common = {
    name,
    kafkaHome: config.get('KAFKA_HOME') || undefined,
    cacheDir: config.require('KAFKA_CACHE_DIR'),
    kafkaVersion: config.require('KAFKA_VERSION'),
    heapOpts: jvmOptions(config.get('KAFKA_HEAP_OPTS')),
    maxMessageBytes: config.int('DISTRIBUTION_MAX_MESSAGE_BYTES'),
    startTimeoutMs: config.int('KAFKA_START_TIMEOUT_S') * 1000,
  };
  if (name === 'simulator') {
    const keys = { servers: 'SIMULATOR_SERVERS', stateDir: 'SIMULATOR_STATE_DIR' } as const;
    return { ...common, keys, servers: config.list('SIMULATOR_SERVERS'), stateDir: config.require('SIMULATOR_STATE_DIR'), secured: false, registry: registrySettings(config) };
  }
  const protocol = config.enum('KAFKA_SECURITY_PROTOCOL');
  const secured = protocol !== 'PLAINTEXT';
  const tls = protocol === 'SASL_SSL' ? clusterTls(config) : undefined;
  return {
    ...common,
    keys: { servers: 'DISTRIBUTION_SERVERS', stateDir: 'KAFKA_STATE_DIR' },
    servers: config.list('DISTRIBUTION_SERVERS'),
    stateDir: config.require('KAFKA_STATE_DIR'),
    secured,
    ...(secured ? { admin: { username: config.require('KAFKA_ADMIN_USERNAME'), password: config.get('KAFKA_ADMIN_PASSWORD') } } : {}),
    ...(tls === undefined ? {} : { tls }),
    registry: distributionRegistrySettings(config, secured, tls?.client),
  };
}

function clusterTls(config: Config): ClusterTls {
  const file = config.get('KAFKA_SSL_KEYSTORE_FILE') || undefined;
  const client = tlsFiles(config, 'KAFKA');
  if (file === undefined) return { client };
  const password = config.get('KAFKA_SSL_KEYSTORE_PASSWORD');
  if (password === undefined || password === '') throw new UsageError('KAFKA_SSL_KEYSTORE_FILE needs KAFKA_SSL_KEYSTORE_PASSWORD (the password of the keystore and of its key)');
  if (client.caFile === undefined) throw new UsageError("KAFKA_SSL_KEYSTORE_FILE needs KAFKA_SSL_CA_FILE: the operator's certificate authority (PEM), which the brokers and the clients trust");
  return { keystore: { file, password }, client };
}

/**
 * The connection of fink_kafka's own clients to the cluster: the super user's in secured mode. The
 * simulator cluster is never secured, so this is every client's connection to it.
 */
export function clusterConnection(settings: ClusterSettings): KafkaConnection {
  const bootstrapBrokers = settings.servers;
  if (settings.admin === undefined) return { bootstrapBrokers };
  const { username, password } = settings.admin;
  if (password === undefined || password === '') throw new UsageError('KAFKA_ADMIN_PASSWORD is not set: set it in the configuration file (conf/fink.conf or --conf) or in the environment');
  const sasl = { mechanism: 'SCRAM-SHA-512' as const, username, password };
  return settings.tls === undefined ? { bootstrapBrokers, sasl } : { bootstrapBrokers, sasl, tls: tlsConnection(settings.tls.client) };
}
