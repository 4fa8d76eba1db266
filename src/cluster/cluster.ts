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
import { FinkError, UsageError } from '../errors.ts';
import { privateFolder, replaceFile } from '../files.ts';
import { masked } from '../printable.ts';
import { withAdmin } from '../kafka/client-options.ts';
import { classifyKafkaError } from '../kafka/errors.ts';
import { clusterLayout, controllerHost, nodeCount, nodeLayout, spreadClusterId, spreadOverHosts, type NodeLayout } from './layout.ts';
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

/** Node `index` of a cluster spread over hosts, as the readiness wait of its own start looks for it. */
export interface OwnNode {
  index: number;
  layout: NodeLayout;
}

/**
 * Answers a metadata request within `timeoutMs`, or throws. A broker opens its listeners once it has
 * caught up with the metadata log, so a refusal of our credentials is its final answer. With `own`
 * (a node started on its own host), asks that node alone and waits until it is among the brokers.
 */
export async function waitUntilAnswering(cluster: ClusterSettings, timeoutMs: number, alive: () => boolean = () => true, brokers = 1, own?: OwnNode): Promise<void> {
  const connection = own === undefined ? clusterConnection(cluster) : { ...clusterConnection(cluster), bootstrapBrokers: [`${own.layout.host}:${own.layout.port}`] };
  const ready = (ids: Map<number, unknown>) => (own === undefined ? ids.size >= brokers : ids.has(own.index + 1));
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (!alive()) throw new FinkError('the Kafka process exited during start-up');
    try {
      const meta = await withAdmin(connection, (admin) => admin.metadata({ topics: [] }), { retries: 0, timeout: 2000 });
      if (ready(meta.brokers)) return;
    } catch (err) {
      if (classifyKafkaError(err) === 'authentication') {
        const admin = cluster.admin?.username;
        throw new FinkError(`Kafka refused the credentials of ${admin}: KAFKA_ADMIN_PASSWORD is probably not the password the cluster knows for ${admin} (the one its storage was formatted with, or the last one set with 'fink_kafka --authentication -a -u ${admin}')`);
      }
      lastError = err;
    }
    await sleep(250);
  }
  const why = lastError instanceof Error ? lastError.message : 'no answer';
  if (own !== undefined) throw new FinkError(`node ${own.index} (${own.layout.host}:${own.layout.port}) did not answer within ${timeoutMs / 1000} s (${why}); ${quorumNeeds(brokers)}`);
  throw new FinkError(`Kafka did not answer within ${timeoutMs / 1000} s (${why})`);
}

/** What a node of a cluster spread over hosts needs before it answers. */
const quorumNeeds = (n: number) => `it answers once a majority of the ${n} controllers (${Math.floor(n / 2) + 1} nodes) run: start the others on their hosts with 'fink_kafka start --brokers ${n} --node I'`;

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

/**
 * Checks a start of `n` nodes (only node `only` with --node): the count the state folder was
 * formatted with, and what a cluster spread over hosts allows. True when it is spread.
 */
function checkStart(cluster: ClusterSettings, n: number, only: number | undefined): boolean {
  const { stateDir } = cluster;
  const spread = spreadOverHosts(cluster, n);
  const servers = `${cluster.keys.servers} (${cluster.servers.join(',')})`;
  if (spread && only === undefined) throw new UsageError(`${servers} names one host per node: start each node on its own host with 'fink_kafka start --brokers ${n} --node I' (I from 0 to ${n - 1}, server I's host)`);
  if (!spread && only !== undefined) throw new UsageError(`--node is for a cluster spread over several hosts, ${cluster.keys.servers} naming one host per node (${n} of them for --brokers ${n}; it is ${cluster.servers.join(',')}); on one host, 'fink_kafka start --brokers ${n}' starts every node`);
  if (only !== undefined && only >= n) throw new UsageError(`--node ${only}: the cluster has ${n} nodes, numbered from 0`);
  // Secured mode keeps a secret per state folder (the controllers' password) and makes a CA of its
  // own at the first start: each host would make different ones, and its nodes could not talk.
  if (spread && cluster.secured) throw new FinkError(`a managed cluster spread over several hosts (${servers}) runs in PLAINTEXT mode only; secured mode (KAFKA_SECURITY_PROTOCOL=${cluster.tls === undefined ? 'SASL_PLAINTEXT' : 'SASL_SSL'}) is for a managed cluster on one host, or for a cluster of your own`, { exitCode: 2, code: 'FINK_KAFKA' });
  const formatted = existsSync(join(nodeLayout(cluster, only ?? 0, n).dir, 'data', 'meta.properties'));
  if (formatted && n !== nodeCount(cluster)) {
    throw new FinkError(`the cluster in ${stateDir} was formatted with ${nodeCount(cluster)} node(s), not ${n}; use another ${cluster.keys.stateDir} (or delete this one) for a cluster of ${n}`);
  }
  return spread;
}

/**
 * Starts the `brokers` nodes of the cluster (default: as formatted), or with `only` (--node) node
 * `only` alone, on this host, its peers started on their own hosts with the same configuration.
 */
export async function startCluster(cluster: ClusterSettings, log: (line: string) => void, brokers?: number, only?: number): Promise<StartResult> {
  const { stateDir } = cluster;
  const n = brokers ?? nodeCount(cluster);
  const spread = checkStart(cluster, n, only);
  const nodes = Array.from({ length: n }, (_, i) => nodeLayout(cluster, i, n));
  const bootstrap = nodes.map((l) => `${l.host}:${l.port}`).join(',');
  const here = only === undefined ? nodes.map((_, i) => i) : [only];
  const pids = here.map((i) => runningPid(nodes[i]!));
  if (pids.every((p) => p !== undefined)) return { alreadyRunning: true, pids: pids as number[], bootstrap };

  const admin = clusterSecurity(cluster);
  const libs = ensureKafkaJars(cluster, log);
  privateFolder(stateDir);
  // Made (once) before any node starts: every node presents the same broker certificate.
  const security = admin === undefined ? undefined : { ...admin, controllerSecret: controllerSecret(stateDir), tls: brokerTls(cluster, nodes[0]!.host, log) };
  replaceFile(join(stateDir, 'nodes'), `${n}\n`, 0o600);
  const clusterId = spread ? spreadClusterId(cluster.servers) : newClusterId();
  const started: Array<{ pid: number; exited: () => boolean; ours: boolean }> = [];
  try {
    for (const index of here) {
      const layout = nodes[index]!;
      const pid = runningPid(layout);
      if (pid !== undefined) {
        started.push({ pid, exited: () => runningPid(layout) === undefined, ours: false });
        continue;
      }
      started.push({ ...(await startNode(layout, { index, nodes, libs, clusterId, cluster, security, log })), ours: true });
    }
    const own = only === undefined ? undefined : { index: only, layout: nodes[only]! };
    if (own !== undefined) log(`waiting up to ${cluster.startTimeoutMs / 1000} s for node ${only} (${own.layout.host}:${own.layout.port}) to answer; ${quorumNeeds(n)}`);
    await waitUntilAnswering(cluster, cluster.startTimeoutMs, () => started.every((s) => !s.exited()), n, own);
  } catch (err) {
    // What this start began goes too: a broker left running without its pid file would be
    // invisible to 'status' and 'stop', and would hold the ports that the next start needs.
    await stopProcesses(started.filter((s) => s.ours).map((s) => s.pid), 10_000);
    for (const [k, i] of here.entries()) if (started[k]?.ours === true) rmSync(nodes[i]!.pidFile, { force: true });
    const tails = here.map((i) => nodes[i]!).map((l) => (existsSync(l.logFile) ? `${l.logFile}:\n${readFileSync(l.logFile, 'utf8').split('\n').slice(-10).join('\n')}` : '')).join('\n');
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
  for (const [host, port] of [[layout.host, layout.port], [controllerHost(layout), layout.controllerPort]] as const) {
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

/** SIGTERM to every node running here (with `only`, node `only` alone), then SIGKILL after `graceMs`; returns the pids stopped. */
export async function stopCluster(cluster: ClusterSettings, graceMs = 30_000, only?: number): Promise<number[]> {
  // Node `only`'s pid file is in its folder whatever the layout: a host that never ran it has none.
  const nodes = only === undefined ? clusterLayout(cluster) : [nodeLayout(cluster, only)];
  const pids = nodes.map(runningPid).filter((p) => p !== undefined);
  await stopProcesses(pids, graceMs);
  for (const layout of nodes) rmSync(layout.pidFile, { force: true });
  return pids;
}
