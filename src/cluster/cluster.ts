// The managed cluster: N combined KRaft broker+controller nodes, each with its files under
// KAFKA_STATE_DIR/node-i (server.properties, data/, kafka.log, kafka.pid), started detached so that
// they outlive the command. The state folder holds secrets (server.properties, the SCRAM records of
// the metadata log): it is readable by its owner only.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FinkError } from '../errors.ts';
import { privateFolder, replaceFile } from '../files.ts';
import { livePid, processStartTime, writePid } from '../pidfile.ts';
import type { Config } from '../config/config.ts';
import { isSecured, withAdmin, kafkaClientOptions } from '../kafka/client-options.ts';
import { ensureKafkaJars } from './provision.ts';
import { checkPassword } from './security.ts';

/**
 * Where every controller listener binds, whatever DISTRIBUTION_SERVERS says: the managed nodes share
 * one host, and only they (and the broker side of each node) talk to the controllers.
 */
export const CONTROLLER_HOST = '127.0.0.1';

export interface NodeLayout {
  dir: string;
  /** The client listener's host, DISTRIBUTION_SERVERS's; the controller's is CONTROLLER_HOST. */
  host: string;
  port: number;
  controllerPort: number;
  pidFile: string;
  logFile: string;
}

/**
 * Node i of the cluster: clients on the first DISTRIBUTION_SERVERS port + 2i, its controller on the
 * port after that, files under KAFKA_STATE_DIR/node-i.
 */
export function nodeLayout(config: Config, index = 0): NodeLayout {
  const dir = join(config.require('KAFKA_STATE_DIR'), `node-${index}`);
  const first = config.list('DISTRIBUTION_SERVERS')[0] ?? '127.0.0.1:9092';
  const m = /^(.*):(\d+)$/.exec(first);
  if (!m) throw new FinkError(`DISTRIBUTION_SERVERS: '${first}' is not host:port`);
  const port = Number(m[2]) + 2 * index;
  return { dir, host: m[1] as string, port, controllerPort: port + 1, pidFile: join(dir, 'kafka.pid'), logFile: join(dir, 'kafka.log') };
}

/** How many nodes the cluster under KAFKA_STATE_DIR was formatted with (1 before the first start). */
export function nodeCount(config: Config): number {
  const file = join(config.require('KAFKA_STATE_DIR'), 'nodes');
  return existsSync(file) ? Number(readFileSync(file, 'utf8').trim()) : 1;
}

export function clusterLayout(config: Config): NodeLayout[] {
  return Array.from({ length: nodeCount(config) }, (_, i) => nodeLayout(config, i));
}

/**
 * The pid of our running broker, or undefined; a pid file whose process is gone (or is not this
 * node's broker: its command line names this node's server.properties) is stale.
 */
export function runningPid(layout: NodeLayout): number | undefined {
  return livePid(layout.pidFile, join(layout.dir, 'server.properties'), true);
}

interface Security {
  admin: string;
  password: string;
  /** The super user's password on the controller listener (SASL/PLAIN), generated, in the state folder. */
  controllerSecret: string;
}

/** The super user of secured mode, or undefined in PLAINTEXT mode; a missing password is an error. */
export function clusterSecurity(config: Config): Omit<Security, 'controllerSecret'> | undefined {
  if (!isSecured(config)) return undefined;
  const password = config.get('KAFKA_ADMIN_PASSWORD');
  if (password === undefined || password === '') {
    throw new FinkError('secured mode (KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT) needs KAFKA_ADMIN_PASSWORD: set it in the environment or in conf/fink.conf (it has no default)');
  }
  checkPassword('KAFKA_ADMIN_PASSWORD', password);
  return { admin: config.require('KAFKA_ADMIN_USERNAME'), password };
}

/**
 * The controller's secret of the cluster under `stateDir`: made once, kept in a file readable by its
 * owner only, the same for every node (each node's controller listener checks it, each node's broker
 * and controller present it).
 */
function controllerSecret(stateDir: string): string {
  const file = join(stateDir, 'controller.secret');
  if (!existsSync(file)) replaceFile(file, `${randomBytes(24).toString('hex')}\n`, 0o600);
  return readFileSync(file, 'utf8').trim();
}

function securityProperties(security: Security | undefined): string[] {
  if (security === undefined) return ['listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT', 'inter.broker.listener.name=PLAINTEXT'];
  const { admin, password, controllerSecret: secret } = security;
  return [
    // No listener lets an unauthenticated peer in: ANONYMOUS is nobody, and not a super user.
    'listener.security.protocol.map=CONTROLLER:SASL_PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT',
    'inter.broker.listener.name=SASL_PLAINTEXT',
    'sasl.enabled.mechanisms=SCRAM-SHA-512',
    'sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512',
    `listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${admin}" password="${password}";`,
    // The controllers authenticate with PLAIN, not SCRAM: SCRAM credentials live in the metadata
    // log, which the controllers must reach each other to read. The super user's name with a secret
    // of its own, checked against this same line (user_<name>), on loopback only.
    'listener.name.controller.sasl.enabled.mechanisms=PLAIN',
    'sasl.mechanism.controller.protocol=PLAIN',
    `listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="${admin}" password="${secret}" user_${admin}="${secret}";`,
    'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    `super.users=User:${admin}`,
    'allow.everyone.if.no.acl.found=false',
  ];
}

function serverProperties(layout: NodeLayout, index: number, nodes: NodeLayout[], security: Security | undefined, maxMessageBytes: number): string {
  const n = nodes.length;
  const listener = security === undefined ? 'PLAINTEXT' : 'SASL_PLAINTEXT';
  // One node: a dynamic quorum formatted --standalone; several: a static quorum of every node.
  const quorum = n === 1
    ? `controller.quorum.bootstrap.servers=${CONTROLLER_HOST}:${layout.controllerPort}`
    : `controller.quorum.voters=${nodes.map((l, i) => `${i + 1}@${CONTROLLER_HOST}:${l.controllerPort}`).join(',')}`;
  return [
    'process.roles=broker,controller',
    `node.id=${index + 1}`,
    quorum,
    `listeners=${listener}://${layout.host}:${layout.port},CONTROLLER://${CONTROLLER_HOST}:${layout.controllerPort}`,
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

const LOG4J2 = (logFile: string) => `status = warn
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

export async function portIsFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** Whether `err` (or one of the errors it gathers) is the broker refusing our SASL credentials. */
function isAuthenticationFailure(err: unknown): boolean {
  const e = err as { code?: unknown; errors?: unknown[]; cause?: unknown } | undefined;
  if (e === undefined || e === null) return false;
  if (e.code === 'PLT_KFK_AUTHENTICATION') return true;
  return (e.errors ?? []).some(isAuthenticationFailure) || (e.cause !== undefined && isAuthenticationFailure(e.cause));
}

/**
 * Answers a metadata request within `timeoutMs`, or throws. A broker opens its listeners once it has
 * caught up with the metadata log, so a refusal of our credentials is its final answer.
 */
export async function waitUntilAnswering(config: Config, timeoutMs: number, alive: () => boolean = () => true, brokers = 1): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (!alive()) throw new FinkError('the Kafka process exited during start-up');
    try {
      const meta = await withAdmin(kafkaClientOptions(config, 'admin'), (admin) => admin.metadata({ topics: [] }), { retries: 0, timeout: 2000 });
      if (meta.brokers.size >= brokers) return;
    } catch (err) {
      if (isAuthenticationFailure(err)) {
        const admin = config.require('KAFKA_ADMIN_USERNAME');
        throw new FinkError(`Kafka refused the credentials of ${admin}: KAFKA_ADMIN_PASSWORD is probably not the password the cluster knows for ${admin} (the one its storage was formatted with, or the last one set with 'fink_kafka --authentication -a -u ${admin}')`);
      }
      lastError = err;
    }
    await sleep(250);
  }
  throw new FinkError(`Kafka did not answer within ${timeoutMs / 1000} s (${lastError instanceof Error ? lastError.message : 'no answer'})`);
}

/**
 * KRaft cluster ids are 16 random bytes in URL-safe base64, as StorageTool random-uuid makes them;
 * like Kafka's own, never one with a leading '-', which the tools' parser would take for an option.
 */
export function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

export interface StartResult {
  alreadyRunning: boolean;
  pids: number[];
  bootstrap: string;
}

export async function startCluster(config: Config, log: (line: string) => void, brokers?: number): Promise<StartResult> {
  const stateDir = config.require('KAFKA_STATE_DIR');
  const formatted = existsSync(join(nodeLayout(config, 0).dir, 'data', 'meta.properties'));
  const n = brokers ?? nodeCount(config);
  if (formatted && n !== nodeCount(config)) {
    throw new FinkError(`the cluster in ${stateDir} was formatted with ${nodeCount(config)} node(s), not ${n}; use another KAFKA_STATE_DIR (or delete this one) for a cluster of ${n}`);
  }
  const nodes = Array.from({ length: n }, (_, i) => nodeLayout(config, i));
  const bootstrap = nodes.map((l) => `${l.host}:${l.port}`).join(',');
  const pids = nodes.map(runningPid);
  if (pids.every((p) => p !== undefined)) return { alreadyRunning: true, pids: pids as number[], bootstrap };

  const admin = clusterSecurity(config);
  const libs = ensureKafkaJars(config, log);
  privateFolder(stateDir);
  const security = admin === undefined ? undefined : { ...admin, controllerSecret: controllerSecret(stateDir) };
  replaceFile(join(stateDir, 'nodes'), `${n}\n`, 0o600);
  const clusterId = newClusterId();
  const started: Array<{ pid: number; exited: () => boolean; ours: boolean }> = [];
  try {
    for (const [index, layout] of nodes.entries()) {
      const pid = runningPid(layout);
      if (pid !== undefined) {
        started.push({ pid, exited: () => runningPid(layout) === undefined, ours: false });
        continue;
      }
      started.push({ ...(await startNode(layout, { index, nodes, libs, clusterId, config, security, log })), ours: true });
    }
    await waitUntilAnswering(config, 90_000, () => started.every((s) => !s.exited()), n);
  } catch (err) {
    // What this start began goes too: a broker left running without its pid file would be
    // invisible to 'status' and 'stop', and would hold the ports that the next start needs.
    await stopProcesses(started.filter((s) => s.ours).map((s) => s.pid), 10_000);
    for (const [i, l] of nodes.entries()) if (started[i]?.ours === true) rmSync(l.pidFile, { force: true });
    const tails = nodes.map((l) => (existsSync(l.logFile) ? `${l.logFile}:\n${readFileSync(l.logFile, 'utf8').split('\n').slice(-10).join('\n')}` : '')).join('\n');
    const text = `${err instanceof Error ? err.message : String(err)}; the end of the logs:\n${tails}`;
    throw new FinkError(security === undefined ? text : [security.password, security.controllerSecret].reduce((t, secret) => t.split(secret).join('********'), text));
  }
  return { alreadyRunning: false, pids: started.map((s) => s.pid), bootstrap };
}

/** What starting one node needs beyond its own layout. */
interface NodeStart {
  /** Its place among the nodes (its node.id is index + 1). */
  index: number;
  /** Every node of the cluster: the controller quorum. */
  nodes: NodeLayout[];
  /** The folder of Kafka's jars. */
  libs: string;
  /** Used to format the node's storage the first time. */
  clusterId: string;
  config: Config;
  security: Security | undefined;
  log: (line: string) => void;
}

async function startNode(layout: NodeLayout, { index, nodes, libs, clusterId, config, security, log }: NodeStart) {
  if (existsSync(layout.pidFile)) {
    log(`removing a stale pid file (${layout.pidFile}): its process is gone`);
    rmSync(layout.pidFile);
  }
  for (const [host, port] of [[layout.host, layout.port], [CONTROLLER_HOST, layout.controllerPort]] as const) {
    if (!(await portIsFree(host, port))) {
      throw new FinkError(`port ${port} on ${host} is taken by another program; stop it or choose another port in DISTRIBUTION_SERVERS`);
    }
  }
  privateFolder(layout.dir);
  privateFolder(join(layout.dir, 'data'));
  const props = join(layout.dir, 'server.properties');
  // It holds the super user's passwords in secured mode: readable by its owner only.
  replaceFile(props, serverProperties(layout, index, nodes, security, config.int('DISTRIBUTION_MAX_MESSAGE_BYTES')), 0o600);
  const log4j = join(layout.dir, 'log4j2.properties');
  replaceFile(log4j, LOG4J2(layout.logFile), 0o600);
  const classpath = `${libs}/*`;
  const heap = (config.get('KAFKA_HEAP_OPTS') ?? '').split(/\s+/).filter((s) => s !== '');

  if (!existsSync(join(layout.dir, 'data', 'meta.properties'))) {
    log(`formatting storage in ${join(layout.dir, 'data')} (cluster ${clusterId})`);
    const mode = nodes.length === 1 ? ['--standalone'] : [];
    if (security !== undefined) mode.push('--add-scram', `SCRAM-SHA-512=[name=${security.admin},password=${security.password}]`);
    // The tool's arguments go through a java @argfile readable by its owner only: on the command
    // line, the super user's password would be visible to every user of the machine (ps).
    const argfile = join(layout.dir, 'format.args');
    replaceFile(argfile, ['kafka.tools.StorageTool', 'format', ...mode, '-t', clusterId, '-c', props].map((a) => `"${a.replace(/[\\"]/g, '\\$&')}"`).join('\n') + '\n', 0o600);
    let format;
    try {
      format = privately(() => spawnSync('java', ['-cp', classpath, `-Dlog4j2.configurationFile=${log4j}`, `@${argfile}`], { encoding: 'utf8' }));
    } finally {
      rmSync(argfile, { force: true });
    }
    if (format.status !== 0) {
      const output = (format.stdout + format.stderr).trim();
      throw new FinkError(`formatting the Kafka storage failed:\n${security === undefined ? output : output.split(security.password).join('********')}`);
    }
  }

  return privately(() => startJava([...heap, '-cp', classpath, `-Dlog4j2.configurationFile=${log4j}`, 'kafka.Kafka', props], { output: join(layout.dir, 'kafka.out'), pidFile: layout.pidFile }));
}

/**
 * Starts `java args` detached, so that it outlives the command, its output appended to `output`
 * (its owner's only) and its pid written to `pidFile`; `exited` tells whether it has exited since.
 */
export function startJava(args: string[], where: { output: string; pidFile: string; cwd?: string }): { pid: number; exited: () => boolean } {
  const out = openSync(where.output, 'a', 0o600);
  const child = spawn('java', args, { cwd: where.cwd, detached: true, stdio: ['ignore', out, out] });
  closeSync(out);
  const pid = child.pid;
  if (pid === undefined) throw new FinkError('could not start java');
  let exited = false;
  child.once('exit', () => (exited = true));
  child.unref();
  writePid(where.pidFile, pid);
  return { pid, exited: () => exited };
}

/** Runs `spawn` with umask 077, so that what Kafka creates (the metadata log, data) is its owner's only. */
function privately<T>(spawn: () => T): T {
  const previous = process.umask(0o077);
  try {
    return spawn();
  } finally {
    process.umask(previous);
  }
}

/**
 * SIGTERM to `pids`, then SIGKILL after `graceMs`; resolves once each process is gone, not merely
 * dying (an exiting JVM keeps its ports a little after its command line is cleared).
 */
export async function stopProcesses(pids: number[], graceMs: number): Promise<void> {
  const procs = pids.map((pid) => ({ pid, started: processStartTime(pid) })).filter((p) => p.started !== undefined);
  const alive = () => procs.filter((p) => processStartTime(p.pid) === p.started);
  const signal = (name: NodeJS.Signals) => {
    for (const p of alive()) {
      try {
        process.kill(p.pid, name);
      } catch {
        // exited in the meantime
      }
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (alive().length > 0 && Date.now() < deadline) await sleep(200);
  signal('SIGKILL');
  while (alive().length > 0) await sleep(100);
}

/** SIGTERM to every node, then SIGKILL after `graceMs`; returns the pids stopped. */
export async function stopCluster(config: Config, graceMs = 30_000): Promise<number[]> {
  const nodes = clusterLayout(config);
  const pids = nodes.map(runningPid).filter((p) => p !== undefined);
  await stopProcesses(pids, graceMs);
  for (const layout of nodes) rmSync(layout.pidFile, { force: true });
  return pids;
}
