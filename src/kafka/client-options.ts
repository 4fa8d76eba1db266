// Connection options for @platformatic/kafka clients, derived from the configuration.
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Admin } from '@platformatic/kafka';
import type { Config } from '../config/config.ts';
import { UsageError } from '../errors.ts';

export type SaslMechanism = 'SCRAM-SHA-512' | 'SCRAM-SHA-256' | 'PLAIN';

export interface KafkaConnection {
  bootstrapBrokers: string[];
  sasl?: { mechanism: SaslMechanism; username: string; password: string };
  /** TLS towards the brokers: their certificate authority (or the system's), our certificate if they ask for one. */
  tls?: ConnectionOptions;
}

/** The PEM files of a TLS connection, as the configuration names them (KAFKA_SSL_* or UPSTREAM_SSL_*). */
export interface TlsFiles {
  /** The keys they come from, for messages. */
  prefix: 'KAFKA' | 'UPSTREAM';
  /** The certificate authority to trust (unset: the system's). */
  caFile?: string | undefined;
  /** Our own certificate and its key, for brokers that ask for one. */
  certFile?: string | undefined;
  keyFile?: string | undefined;
}

export function tlsFiles(config: Config, prefix: TlsFiles['prefix']): TlsFiles {
  const get = (key: `${TlsFiles['prefix']}_SSL_${'CA' | 'CERT' | 'KEY'}_FILE`) => config.get(key) || undefined;
  return { prefix, caFile: get(`${prefix}_SSL_CA_FILE`), certFile: get(`${prefix}_SSL_CERT_FILE`), keyFile: get(`${prefix}_SSL_KEY_FILE`) };
}

/**
 * The node:tls options of `files`, read now: a file that cannot be read is named with its key, at
 * start, rather than as a handshake failure later.
 */
export function tlsConnection(files: TlsFiles): ConnectionOptions {
  const { prefix } = files;
  if ((files.certFile === undefined) !== (files.keyFile === undefined)) {
    throw new UsageError(`${prefix}_SSL_CERT_FILE and ${prefix}_SSL_KEY_FILE go together: set both (a client certificate and its key) or neither`);
  }
  const read = (what: string, file: string | undefined): Buffer | undefined => {
    if (file === undefined) return undefined;
    try {
      return readFileSync(file);
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
      const hint = what === 'CA' && prefix === 'KAFKA' ? " (a managed cluster writes its generated CA file when 'fink_kafka start' first runs in SASL_SSL mode; on another host, copy it from there)" : '';
      throw new UsageError(`${prefix}_SSL_${what}_FILE: cannot read ${file}: ${why}${hint}`);
    }
  };
  const ca = read('CA', files.caFile);
  const cert = read('CERT', files.certFile);
  const key = read('KEY', files.keyFile);
  return { ...(ca === undefined ? {} : { ca }), ...(cert === undefined ? {} : { cert }), ...(key === undefined ? {} : { key }) };
}

export function kafkaClientOptions(config: Config, who: 'client' | 'admin' = 'client'): KafkaConnection {
  const bootstrapBrokers = config.list('DISTRIBUTION_SERVERS');
  const protocol = config.enum('KAFKA_SECURITY_PROTOCOL');
  if (protocol === 'PLAINTEXT') return { bootstrapBrokers };
  const [userKey, passKey] = who === 'admin' ? (['KAFKA_ADMIN_USERNAME', 'KAFKA_ADMIN_PASSWORD'] as const) : (['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'] as const);
  return {
    bootstrapBrokers,
    sasl: { mechanism: 'SCRAM-SHA-512', username: config.require(userKey), password: config.require(passKey) },
    ...(protocol === 'SASL_SSL' ? { tls: tlsConnection(tlsFiles(config, 'KAFKA')) } : {}),
  };
}

/**
 * DISTRIBUTION_SCHEMA_REGISTRY as a client of the redistribution cluster asks it. In secured mode
 * the managed registry's gate takes writes only from the cluster's users, and reads too with
 * DISTRIBUTION_REGISTRY_READS=authenticated: the client's own Kafka user is added to the URL then
 * (a URL naming a user of its own keeps it). The credentials ride in the URL only as far as
 * avro/schema-registry.ts, which moves them into a header and out of every message. Undefined:
 * the key is unset or empty.
 */
export function schemaRegistryUrl(config: Config, access: 'write' | 'read'): string | undefined {
  const url = config.get('DISTRIBUTION_SCHEMA_REGISTRY') || undefined;
  if (url === undefined || !URL.canParse(url)) return url;
  const sasl = kafkaClientOptions(config).sasl;
  if (sasl === undefined || (access === 'read' && config.enum('DISTRIBUTION_REGISTRY_READS') === 'open')) return url;
  const parsed = new URL(url);
  if (parsed.username !== '') return url;
  parsed.username = sasl.username;
  parsed.password = sasl.password;
  return parsed.href;
}

/**
 * The connection to the survey's own cluster that stream2science consumes (UPSTREAM_*): its
 * servers and security are the survey's, unrelated to the redistribution cluster's.
 */
export function upstreamClientOptions(config: Config): KafkaConnection {
  const bootstrapBrokers = config.list('UPSTREAM_SERVERS');
  if (bootstrapBrokers.length === 0) throw new UsageError('UPSTREAM_SERVERS is not set: stream2science needs the bootstrap servers of the survey\'s cluster');
  const protocol = config.enum('UPSTREAM_SECURITY_PROTOCOL');
  const connection: KafkaConnection = { bootstrapBrokers };
  if (protocol === 'SSL' || protocol === 'SASL_SSL') connection.tls = tlsConnection(tlsFiles(config, 'UPSTREAM'));
  if (protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL') {
    const username = config.get('UPSTREAM_SASL_USERNAME');
    const password = config.get('UPSTREAM_SASL_PASSWORD');
    if (username === undefined || password === undefined) throw new UsageError(`UPSTREAM_SECURITY_PROTOCOL=${protocol} needs UPSTREAM_SASL_USERNAME and UPSTREAM_SASL_PASSWORD`);
    connection.sasl = { mechanism: config.enum('UPSTREAM_SASL_MECHANISM'), username, password };
  }
  return connection;
}

export interface AdminLimits {
  retries: number;
  timeout: number;
}

/**
 * An admin client on `connection` (the super user's for cluster administration, the service's own
 * for what it may do itself, such as creating its topics), closed after `body` whatever happens.
 */
export async function withAdmin<T>(connection: KafkaConnection, body: (admin: Admin) => Promise<T>, limits: AdminLimits = { retries: 3, timeout: 10_000 }): Promise<T> {
  const admin = new Admin({ clientId: 'fink_kafka', ...connection, ...limits });
  try {
    return await body(admin);
  } finally {
    await closeQuietly(admin);
  }
}

/**
 * Closes a client whose work is over. A failure to close is not reported: the client's sockets are
 * gone either way, there is nothing left to undo, and the outcome of the work (returned or thrown)
 * is what the caller needs, not an error of the clean-up that would replace it.
 */
export async function closeQuietly(client: { close(): Promise<unknown> }): Promise<void> {
  await client.close().catch(() => undefined);
}
