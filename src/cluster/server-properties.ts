// The text of a managed node's configuration files: its server.properties (quorum, listeners,
// limits), the security lines of secured mode, and its log4j2 configuration. Text only: cluster.ts
// writes the files, readable by their owner only (server.properties holds passwords).
import { join } from 'node:path';
import { FinkError } from '../errors.ts';
import type { BrokerTls } from './certificates.ts';
import { controllerHost, type NodeLayout } from './layout.ts';

/** The super user of secured mode, as the nodes' listeners are configured with it. */
export interface NodeSecurity {
  admin: string;
  password: string;
  /** The super user's password on the controller listener (SASL/PLAIN), generated, in the state folder. */
  controllerSecret: string;
  /** SASL_SSL: the client (and inter-broker) listener over TLS; the controller listener stays on loopback. */
  tls?: BrokerTls | undefined;
}

/** The protocol, and name, of the client listener. */
function clientListener(security: NodeSecurity | undefined): 'PLAINTEXT' | 'SASL_PLAINTEXT' | 'SASL_SSL' {
  if (security === undefined) return 'PLAINTEXT';
  return security.tls === undefined ? 'SASL_PLAINTEXT' : 'SASL_SSL';
}

/** A value in a .properties file: its backslashes escaped; a line break would end it. */
function propertyValue(key: string, value: string): string {
  if (/[\r\n]/.test(value)) throw new FinkError(`${key}: a value may not contain a line break`, { exitCode: 2, code: 'FINK_KAFKA' });
  return value.replace(/\\/g, '\\\\');
}

function tlsProperties(tls: BrokerTls): string[] {
  return [
    'ssl.keystore.type=PKCS12',
    `ssl.keystore.location=${propertyValue('KAFKA_SSL_KEYSTORE_FILE', tls.keystore)}`,
    `ssl.keystore.password=${propertyValue('KAFKA_SSL_KEYSTORE_PASSWORD', tls.keystorePassword)}`,
    `ssl.key.password=${propertyValue('KAFKA_SSL_KEYSTORE_PASSWORD', tls.keystorePassword)}`,
    `ssl.truststore.type=${tls.truststoreType}`,
    `ssl.truststore.location=${propertyValue('KAFKA_SSL_CA_FILE', tls.truststore)}`,
    ...(tls.truststorePassword === undefined ? [] : [`ssl.truststore.password=${tls.truststorePassword}`]),
    'ssl.enabled.protocols=TLSv1.3,TLSv1.2',
    // Clients authenticate with SCRAM inside the TLS session; a certificate of theirs is not asked for.
    'ssl.client.auth=none',
  ];
}

export function securityProperties(security: NodeSecurity | undefined): string[] {
  if (security === undefined) return ['listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT', 'inter.broker.listener.name=PLAINTEXT'];
  const { admin, password, controllerSecret: secret } = security;
  const listener = clientListener(security);
  return [
    // No listener lets an unauthenticated peer in: ANONYMOUS is nobody, and not a super user.
    `listener.security.protocol.map=CONTROLLER:SASL_PLAINTEXT,${listener}:${listener}`,
    `inter.broker.listener.name=${listener}`,
    'sasl.enabled.mechanisms=SCRAM-SHA-512',
    'sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512',
    `listener.name.${listener.toLowerCase()}.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${admin}" password="${password}";`,
    // The controllers authenticate with PLAIN, not SCRAM: SCRAM credentials live in the metadata
    // log, which the controllers must reach each other to read. The super user's name with a secret
    // of its own, checked against this same line (user_<name>), on loopback only.
    'listener.name.controller.sasl.enabled.mechanisms=PLAIN',
    'sasl.mechanism.controller.protocol=PLAIN',
    `listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="${admin}" password="${secret}" user_${admin}="${secret}";`,
    'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    `super.users=User:${admin}`,
    'allow.everyone.if.no.acl.found=false',
    ...(security.tls === undefined ? [] : tlsProperties(security.tls)),
  ];
}

export function serverProperties(layout: NodeLayout, index: number, nodes: NodeLayout[], security: NodeSecurity | undefined, maxMessageBytes: number): string {
  const n = nodes.length;
  const listener = clientListener(security);
  // One node: a dynamic quorum formatted --standalone; several: a static quorum of every node
  // (on loopback when they share a host, on each node's own host when spread).
  const quorum = n === 1
    ? `controller.quorum.bootstrap.servers=${controllerHost(layout)}:${layout.controllerPort}`
    : `controller.quorum.voters=${nodes.map((l, i) => `${i + 1}@${controllerHost(l)}:${l.controllerPort}`).join(',')}`;
  return [
    'process.roles=broker,controller',
    `node.id=${index + 1}`,
    quorum,
    `listeners=${listener}://${layout.host}:${layout.port},CONTROLLER://${controllerHost(layout)}:${layout.controllerPort}`,
    `advertised.listeners=${listener}://${layout.host}:${layout.port}`,
    'controller.listener.names=CONTROLLER',
    ...securityProperties(security),
    `log.dirs=${join(layout.dir, 'data')}`,
    // Internal topics replicated as far as the cluster allows; with three nodes, one may be lost.
    `offsets.topic.replication.factor=${Math.min(n, 3)}`,
    `transaction.state.log.replication.factor=${Math.min(n, 3)}`,
    `transaction.state.log.min.isr=${Math.min(n, 2)}`,
    `share.coordinator.state.topic.replication.factor=${Math.min(n, 3)}`,
    `share.coordinator.state.topic.min.isr=${Math.min(n, 2)}`,
    // A few partitions, not Kafka's 50: each is loaded before its coordinator answers, and a
    // small local cluster spreads no load over them (a new cluster answers in a fraction of the time).
    'offsets.topic.num.partitions=3',
    'transaction.state.log.num.partitions=3',
    'group.initial.rebalance.delay.ms=0',
    // Size limits enforced within seconds, not Kafka's 5 minutes and 1 minute: at Rubin's rates
    // (a few hundred MB/s) a topic would otherwise pass its retention.bytes by tens of GB between
    // two checks, and its deleted segments would stay on disk a minute longer, which the
    // retention derived from the free space (DISTRIBUTION_RETENTION_BYTES) does not leave room for.
    'log.retention.check.interval.ms=10000',
    'log.segment.delete.delay.ms=1000',
    // A transaction whose producer died (a SIGKILLed distribution instance) holds back every
    // read_committed reader of its partitions until the coordinator aborts it: checked every second
    // instead of Kafka's 10, so that consumers see the survivors' alerts within the transaction
    // timeout (30 s) plus a second.
    'transaction.abort.timed.out.transaction.cleanup.interval.ms=1000',
    // Topics are created on purpose (fink_kafka --create-topic, or by the service), never by a typo.
    'auto.create.topics.enable=false',
    'num.partitions=3',
    // Alerts up to DISTRIBUTION_MAX_MESSAGE_BYTES on any topic, and replicas that fetch them in one
    // request (Kafka's advice: replica fetch sizes at least the largest message).
    `message.max.bytes=${maxMessageBytes}`,
    `replica.fetch.max.bytes=${maxMessageBytes}`,
    `replica.fetch.response.max.bytes=${Math.max(maxMessageBytes, 10 * 1024 * 1024)}`,
    '',
  ].join('\n');
}

/** log4j2.properties of a node: warnings, and the line that says it started, into its log file. */
export const LOG4J2 = (logFile: string) => `status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = ${logFile}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
logger.kafka.name = org.apache.kafka
logger.kafka.level = WARN
logger.kafkaserver.name = kafka.server
logger.kafkaserver.level = WARN
logger.started.name = kafka.server.KafkaRaftServer
logger.started.level = INFO
`;
