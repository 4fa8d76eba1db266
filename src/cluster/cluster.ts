// A managed cluster's life: N combined KRaft broker+controller nodes (layout.ts), each with its files
// under the state folder's node-i (server.properties, data/, kafka.log, kafka.pid), its storage
// formatted on the first start, started detached so that they outlive the command (processes.ts),
// waited for until the cluster answers, and stopped. The state folder holds secrets
// (server.properties, the SCRAM records of the metadata log): it is readable by its owner only.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FinkError } from '../errors.ts';
import { privateFolder, replaceFile } from '../files.ts';
import { masked } from '../printable.ts';
import { withAdmin } from '../kafka/client-options.ts';
import { classifyKafkaError } from '../kafka/errors.ts';
import { clusterLayout, CONTROLLER_HOST, nodeCount, nodeLayout, type NodeLayout } from './layout.ts';
import { portIsFree, privately, runningPid, startJava, stopProcesses } from './processes.ts';
import { brokerTls } from './certificates.ts';
import { ensureKafkaJars } from './provision.ts';
import { checkPassword } from './security.ts';
import { LOG4J2, serverProperties, type NodeSecurity } from './server-properties.ts';
import { clusterConnection, type ClusterSettings } from './settings.ts';

/** The super user of secured mode, or undefined in PLAINTEXT mode; a missing password is an error. */
export function clusterSecurity(cluster: ClusterSettings): Omit<NodeSecurity, 'controllerSecret'> | undefined {
  if (cluster.admin === undefined) return undefined;
  const { username, password } = cluster.admin;
  if (password === undefined || password === '') {
    throw new FinkError(`secured mode (KAFKA_SECURITY_PROTOCOL=${cluster.tls === undefined ? 'SASL_PLAINTEXT' : 'SASL_SSL'}) needs KAFKA_ADMIN_PASSWORD: set it in the environment or in conf/fink.conf (it has no default)`);
  }
  checkPassword('KAFKA_ADMIN_PASSWORD', password);
  return { admin: username, password };
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

/**
 * Answers a metadata request within `timeoutMs`, or throws. A broker opens its listeners once it has
 * caught up with the metadata log, so a refusal of our credentials is its final answer.
 */
export async function waitUntilAnswering(cluster: ClusterSettings, timeoutMs: number, alive: () => boolean = () => true, brokers = 1): Promise<void> {
  const connection = clusterConnection(cluster);
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (!alive()) throw new FinkError('the Kafka process exited during start-up');
    try {
      const meta = await withAdmin(connection, (admin) => admin.metadata({ topics: [] }), { retries: 0, timeout: 2000 });
      if (meta.brokers.size >= brokers) return;
    } catch (err) {
      if (classifyKafkaError(err) === 'authentication') {
        const admin = cluster.admin?.username;
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

export async function startCluster(cluster: ClusterSettings, log: (line: string) => void, brokers?: number): Promise<StartResult> {
  const { stateDir } = cluster;
  const formatted = existsSync(join(nodeLayout(cluster, 0).dir, 'data', 'meta.properties'));
  const n = brokers ?? nodeCount(cluster);
  if (formatted && n !== nodeCount(cluster)) {
    throw new FinkError(`the cluster in ${stateDir} was formatted with ${nodeCount(cluster)} node(s), not ${n}; use another ${cluster.keys.stateDir} (or delete this one) for a cluster of ${n}`);
  }
  const nodes = Array.from({ length: n }, (_, i) => nodeLayout(cluster, i));
  const bootstrap = nodes.map((l) => `${l.host}:${l.port}`).join(',');
  const pids = nodes.map(runningPid);
  if (pids.every((p) => p !== undefined)) return { alreadyRunning: true, pids: pids as number[], bootstrap };

  const admin = clusterSecurity(cluster);
  const libs = ensureKafkaJars(cluster, log);
  privateFolder(stateDir);
  // Made (once) before any node starts: every node presents the same broker certificate.
  const security = admin === undefined ? undefined : { ...admin, controllerSecret: controllerSecret(stateDir), tls: brokerTls(cluster, nodes[0]!.host, log) };
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
      started.push({ ...(await startNode(layout, { index, nodes, libs, clusterId, cluster, security, log })), ours: true });
    }
    await waitUntilAnswering(cluster, cluster.startTimeoutMs, () => started.every((s) => !s.exited()), n);
  } catch (err) {
    // What this start began goes too: a broker left running without its pid file would be
    // invisible to 'status' and 'stop', and would hold the ports that the next start needs.
    await stopProcesses(started.filter((s) => s.ours).map((s) => s.pid), 10_000);
    for (const [i, l] of nodes.entries()) if (started[i]?.ours === true) rmSync(l.pidFile, { force: true });
    const tails = nodes.map((l) => (existsSync(l.logFile) ? `${l.logFile}:\n${readFileSync(l.logFile, 'utf8').split('\n').slice(-10).join('\n')}` : '')).join('\n');
    const text = `${err instanceof Error ? err.message : String(err)}; the end of the logs:\n${tails}`;
    throw new FinkError(masked(text, [security?.password, security?.controllerSecret, security?.tls?.keystorePassword]));
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
  cluster: ClusterSettings;
  security: NodeSecurity | undefined;
  log: (line: string) => void;
}

async function startNode(layout: NodeLayout, { index, nodes, libs, clusterId, cluster, security, log }: NodeStart) {
  if (existsSync(layout.pidFile)) {
    log(`removing a stale pid file (${layout.pidFile}): its process is gone`);
    rmSync(layout.pidFile);
  }
  for (const [host, port] of [[layout.host, layout.port], [CONTROLLER_HOST, layout.controllerPort]] as const) {
    if (!(await portIsFree(host, port))) {
      throw new FinkError(`port ${port} on ${host} is taken by another program; stop it or choose another port in ${cluster.keys.servers}`);
    }
  }
  privateFolder(layout.dir);
  privateFolder(join(layout.dir, 'data'));
  const props = join(layout.dir, 'server.properties');
  // It holds the super user's passwords in secured mode: readable by its owner only.
  replaceFile(props, serverProperties(layout, index, nodes, security, cluster.maxMessageBytes), 0o600);
  const log4j = join(layout.dir, 'log4j2.properties');
  replaceFile(log4j, LOG4J2(layout.logFile), 0o600);
  const classpath = `${libs}/*`;
  formatStorage(layout, { classpath, props, log4j }, { nodes, clusterId, security, log });
  return privately(() => startJava([...cluster.heapOpts, '-cp', classpath, `-Dlog4j2.configurationFile=${log4j}`, 'kafka.Kafka', props], { output: join(layout.dir, 'kafka.out'), pidFile: layout.pidFile }));
}

/** The files a node's Java processes are given. */
interface NodeFiles {
  classpath: string;
  /** server.properties */
  props: string;
  log4j: string;
}

/** Formats a node's storage on its first start (StorageTool format; --standalone for a single node). */
function formatStorage(layout: NodeLayout, { classpath, props, log4j }: NodeFiles, { nodes, clusterId, security, log }: Pick<NodeStart, 'nodes' | 'clusterId' | 'security' | 'log'>): void {
  if (existsSync(join(layout.dir, 'data', 'meta.properties'))) return;
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
    throw new FinkError(`formatting the Kafka storage failed:\n${masked(output, [security?.password])}`);
  }
}

/** SIGTERM to every node, then SIGKILL after `graceMs`; returns the pids stopped. */
export async function stopCluster(cluster: ClusterSettings, graceMs = 30_000): Promise<number[]> {
  const nodes = clusterLayout(cluster);
  const pids = nodes.map(runningPid).filter((p) => p !== undefined);
  await stopProcesses(pids, graceMs);
  for (const layout of nodes) rmSync(layout.pidFile, { force: true });
  return pids;
}
