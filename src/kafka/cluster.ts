// The managed cluster: N combined KRaft broker+controller nodes, each with its files under
// KAFKA_STATE_DIR/node-i (server.properties, data/, kafka.log, kafka.pid), started detached so that
// they outlive the command.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FinkError } from '../errors.ts';
import { livePid } from '../pidfile.ts';
import type { Config } from '../config/config.ts';
import { isSecured, withAdmin } from './client-options.ts';
import { ensureKafkaJars } from './provision.ts';
import { checkPassword } from './security.ts';

export interface NodeLayout {
  dir: string;
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

/** The pid of our running broker, or undefined; a pid file whose process is gone (or is not Kafka) is stale. */
export function runningPid(layout: NodeLayout): number | undefined {
  return livePid(layout.pidFile, 'kafka.Kafka');
}

interface Security {
  admin: string;
  password: string;
}

/** The super user of secured mode, or undefined in PLAINTEXT mode; a missing password is an error. */
export function clusterSecurity(config: Config): Security | undefined {
  if (!isSecured(config)) return undefined;
  const password = config.get('KAFKA_ADMIN_PASSWORD');
  if (password === undefined || password === '') {
    throw new FinkError('secured mode (KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT) needs KAFKA_ADMIN_PASSWORD: set it in the environment or in conf/fink.conf (it has no default)');
  }
  checkPassword('KAFKA_ADMIN_PASSWORD', password);
  return { admin: config.require('KAFKA_ADMIN_USERNAME'), password };
}

function securityProperties(security: Security | undefined): string[] {
  if (security === undefined) return ['listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT', 'inter.broker.listener.name=PLAINTEXT'];
  return [
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT',
    'inter.broker.listener.name=SASL_PLAINTEXT',
    'sasl.enabled.mechanisms=SCRAM-SHA-512',
    'sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512',
    `listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${security.admin}" password="${security.password}";`,
    'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    // The controller listener stays PLAINTEXT on loopback: its peers arrive as ANONYMOUS.
    `super.users=User:${security.admin};User:ANONYMOUS`,
    'allow.everyone.if.no.acl.found=false',
  ];
}

function serverProperties(layout: NodeLayout, index: number, nodes: NodeLayout[], security: Security | undefined): string {
  const n = nodes.length;
  const listener = security === undefined ? 'PLAINTEXT' : 'SASL_PLAINTEXT';
  // One node: a dynamic quorum formatted --standalone; several: a static quorum of every node.
  const quorum = n === 1
    ? `controller.quorum.bootstrap.servers=${layout.host}:${layout.controllerPort}`
    : `controller.quorum.voters=${nodes.map((l, i) => `${i + 1}@${l.host}:${l.controllerPort}`).join(',')}`;
  return [
    'process.roles=broker,controller',
    `node.id=${index + 1}`,
    quorum,
    `listeners=${listener}://${layout.host}:${layout.port},CONTROLLER://${layout.host}:${layout.controllerPort}`,
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
    // Topics are created on purpose (fink_kafka --create-topic, or by the service), never by a typo.
    'auto.create.topics.enable=false',
    'num.partitions=3',
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

/** Answers a metadata request within `timeoutMs`, or throws. */
export async function waitUntilAnswering(config: Config, timeoutMs: number, alive: () => boolean = () => true, brokers = 1): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (!alive()) throw new FinkError('the Kafka process exited during start-up');
    try {
      const meta = await withAdmin(config, (admin) => admin.metadata({ topics: [] }), { retries: 0, timeout: 2000 });
      if (meta.brokers.size >= brokers) return;
    } catch (err) {
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

  const security = clusterSecurity(config);
  const libs = ensureKafkaJars(config, log);
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(join(stateDir, 'nodes'), `${n}\n`);
  const clusterId = newClusterId();
  const started: Array<{ pid: number; exited: () => boolean }> = [];
  for (const [index, layout] of nodes.entries()) {
    const pid = runningPid(layout);
    if (pid !== undefined) {
      started.push({ pid, exited: () => runningPid(layout) === undefined });
      continue;
    }
    started.push(await startNode(layout, index, nodes, libs, clusterId, config, security, log));
  }
  try {
    await waitUntilAnswering(config, 90_000, () => started.every((s) => !s.exited()), n);
  } catch (err) {
    const tails = nodes.map((l) => (existsSync(l.logFile) ? `${l.logFile}:\n${readFileSync(l.logFile, 'utf8').split('\n').slice(-10).join('\n')}` : '')).join('\n');
    for (const l of nodes) rmSync(l.pidFile, { force: true });
    throw new FinkError(`${err instanceof Error ? err.message : String(err)}; the end of the logs:\n${tails}`);
  }
  return { alreadyRunning: false, pids: started.map((s) => s.pid), bootstrap };
}

async function startNode(layout: NodeLayout, index: number, nodes: NodeLayout[], libs: string, clusterId: string, config: Config, security: Security | undefined, log: (line: string) => void) {
  if (existsSync(layout.pidFile)) {
    log(`removing a stale pid file (${layout.pidFile}): its process is gone`);
    rmSync(layout.pidFile);
  }
  for (const port of [layout.port, layout.controllerPort]) {
    if (!(await portIsFree(layout.host, port))) {
      throw new FinkError(`port ${port} on ${layout.host} is taken by another program; stop it or choose another port in DISTRIBUTION_SERVERS`);
    }
  }
  mkdirSync(layout.dir, { recursive: true });
  const props = join(layout.dir, 'server.properties');
  // It holds the super user's password in secured mode: readable by its owner only.
  writeFileSync(props, serverProperties(layout, index, nodes, security), { mode: 0o600 });
  chmodSync(props, 0o600);
  const log4j = join(layout.dir, 'log4j2.properties');
  writeFileSync(log4j, LOG4J2(layout.logFile));
  const classpath = `${libs}/*`;
  const heap = (config.get('KAFKA_HEAP_OPTS') ?? '').split(/\s+/).filter((s) => s !== '');

  if (!existsSync(join(layout.dir, 'data', 'meta.properties'))) {
    log(`formatting storage in ${join(layout.dir, 'data')} (cluster ${clusterId})`);
    const mode = nodes.length === 1 ? ['--standalone'] : [];
    if (security !== undefined) mode.push('--add-scram', `SCRAM-SHA-512=[name=${security.admin},password=${security.password}]`);
    // The tool's arguments go through a java @argfile readable by its owner only: on the command
    // line, the super user's password would be visible to every user of the machine (ps).
    const argfile = join(layout.dir, 'format.args');
    writeFileSync(argfile, ['kafka.tools.StorageTool', 'format', ...mode, '-t', clusterId, '-c', props].map((a) => `"${a.replace(/[\\"]/g, '\\$&')}"`).join('\n') + '\n', { mode: 0o600 });
    chmodSync(argfile, 0o600);
    let format;
    try {
      format = spawnSync('java', ['-cp', classpath, `-Dlog4j2.configurationFile=${log4j}`, `@${argfile}`], { encoding: 'utf8' });
    } finally {
      rmSync(argfile, { force: true });
    }
    if (format.status !== 0) {
      const output = (format.stdout + format.stderr).trim();
      throw new FinkError(`formatting the Kafka storage failed:\n${security === undefined ? output : output.split(security.password).join('********')}`);
    }
  }

  const out = openSync(join(layout.dir, 'kafka.out'), 'a');
  const child = spawn('java', [...heap, '-cp', classpath, `-Dlog4j2.configurationFile=${log4j}`, 'kafka.Kafka', props], {
    detached: true,
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  const pid = child.pid;
  if (pid === undefined) throw new FinkError('could not start java');
  let exited = false;
  child.once('exit', () => (exited = true));
  child.unref();
  writeFileSync(layout.pidFile, `${pid}\n`);
  return { pid, exited: () => exited };
}

/** SIGTERM to every node, then SIGKILL after `graceMs`; returns the pids stopped. */
export async function stopCluster(config: Config, graceMs = 30_000): Promise<number[]> {
  const nodes = clusterLayout(config);
  const pids: number[] = [];
  for (const layout of nodes) {
    const pid = runningPid(layout);
    if (pid !== undefined) {
      process.kill(pid, 'SIGTERM');
      pids.push(pid);
    }
  }
  const deadline = Date.now() + graceMs;
  while (nodes.some((l) => runningPid(l) !== undefined) && Date.now() < deadline) await sleep(200);
  for (const layout of nodes) {
    const pid = runningPid(layout);
    if (pid !== undefined) process.kill(pid, 'SIGKILL');
  }
  while (nodes.some((l) => runningPid(l) !== undefined)) await sleep(100);
  for (const layout of nodes) rmSync(layout.pidFile, { force: true });
  return pids;
}
