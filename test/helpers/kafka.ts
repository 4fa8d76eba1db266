// A real managed Kafka for a test file: free ports, its own state folder, started with the
// project's own code, so the suite never collides with a cluster the user runs.
import { randomBytes, randomInt } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { loadConfig } from '../../src/config/config.ts';
import { startCluster, stopCluster } from '../../src/cluster/cluster.ts';
import { controllerHost, nodeLayout } from '../../src/cluster/layout.ts';
import { portIsFree, runningPid } from '../../src/cluster/processes.ts';
import { clusterSettings } from '../../src/cluster/settings.ts';
import { kafkaClientOptions } from '../../src/kafka/client-options.ts';
import { testEnv } from './cli.ts';
import { portRange } from './ports.ts';
import { tempDir } from './temp.ts';
import { transactionsReady } from './transactions.ts';
import { waitFor } from './wait.ts';

export interface TestCluster {
  bootstrap: string;
  /**
   * Configuration overrides for loadConfig({ env }) or for child processes. Secured clusters add
   * KAFKA_SECURITY_PROTOCOL, the admin credentials, and KAFKA_SASL_USERNAME/PASSWORD set to the
   * super user (create narrower users with `fink_kafka --authentication` to test ACLs); over TLS,
   * KAFKA_SECURITY_PROTOCOL=SASL_SSL and KAFKA_SSL_CA_FILE too.
   */
  env: Record<string, string>;
  stateDir: string;
  /** With `tls`: the CA file (PEM) that `fink_kafka start` made and printed, which the clients trust. */
  caFile?: string;
  stop(): Promise<void>;
  /** SIGKILL node `index`, as a crash would; resolves once the process is gone. */
  killBroker(index: number): Promise<void>;
  /** Stops the cluster gracefully and starts it again on the same storage and ports. */
  restart(): Promise<void>;
  /** Starts again every node that is not running (a killed broker comes back), on its storage and ports. */
  revive(): Promise<void>;
}

/** Ports handed out by this process: not handed out twice, though nothing may be bound on them yet. */
const handedOut = new Set<number>();

/** A port p such that p .. p+count-1 are all free (a node takes two: clients, controller). */
export async function freePortPair(count = 2): Promise<number> {
  const { low, high } = portRange();
  for (;;) {
    const port = randomInt(low, high - count + 2);
    const ports = Array.from({ length: count }, (_, i) => port + i);
    if (ports.some((p) => handedOut.has(p))) continue;
    let free = true;
    for (const p of ports) free &&= await portIsFree('127.0.0.1', p);
    if (!free) continue;
    for (const p of ports) handedOut.add(p);
    return port;
  }
}

/** `tls`: secured mode over TLS (SASL_SSL), with the CA and broker certificates that fink_kafka makes. */
export interface TestClusterOptions {
  brokers?: number;
  secured?: boolean;
  tls?: boolean;
}

export async function startTestCluster(options: TestClusterOptions = {}): Promise<TestCluster> {
  // Free ports are chosen before the brokers bind them: another process (a second suite, a build)
  // can take one in between, and a node then fails to start. Such a start is tried once more, on
  // other ports and a new folder; a failure that happens twice is reported.
  try {
    return await startTestClusterOnce(options);
  } catch (err) {
    process.stderr.write(`# the test cluster did not start (${(err as Error).message.split('\n')[0]}): once more on other ports\n`);
    return startTestClusterOnce(options);
  }
}

/**
 * A test cluster for the tests of the enclosing suite (or of the file, called at its top level):
 * started before them and stopped after, if it started. An unsecured cluster's transaction
 * coordinators answer before the suite's own set-up (transactionsReady: a session opened on a fresh
 * cluster fails while they are made, and CI runs saw suites' first sessions fail so). `started` is
 * handed the cluster for the suite's own variables and set-up.
 */
export function withTestCluster(started: (cluster: TestCluster) => void | Promise<void>, options: TestClusterOptions = {}): void {
  let cluster: TestCluster | undefined;
  before(async () => {
    cluster = await startTestCluster(options);
    if (options.secured !== true) await transactionsReady(kafkaClientOptions(loadConfig({ env: testEnv(cluster.env) })));
    await started(cluster);
  });
  after(async () => {
    await cluster?.stop();
  });
}

async function startTestClusterOnce(options: TestClusterOptions): Promise<TestCluster> {
  const brokers = options.brokers ?? 1;
  const port = await freePortPair(2 * brokers);
  const stateDir = tempDir('kafka-test');
  const env: Record<string, string> = { DISTRIBUTION_SERVERS: `127.0.0.1:${port}`, KAFKA_STATE_DIR: stateDir, KAFKA_HEAP_OPTS: '-Xms128m -Xmx512m' };
  if (options.secured === true || options.tls === true) {
    const password = randomBytes(12).toString('hex');
    Object.assign(env, {
      KAFKA_SECURITY_PROTOCOL: options.tls === true ? 'SASL_SSL' : 'SASL_PLAINTEXT',
      KAFKA_ADMIN_USERNAME: 'admin',
      KAFKA_ADMIN_PASSWORD: password,
      KAFKA_SASL_USERNAME: 'admin',
      KAFKA_SASL_PASSWORD: password,
    });
  }
  // Where fink_kafka start makes the CA, said explicitly, as a client on another host would say it.
  if (options.tls === true) env.KAFKA_SSL_CA_FILE = join(stateDir, 'tls', 'ca.pem');
  const cluster = clusterSettings(loadConfig({ env: testEnv(env) }), 'distribution');
  let started: Awaited<ReturnType<typeof startCluster>>;
  try {
    started = await startCluster(cluster, () => {}, brokers);
  } catch (err) {
    // Nodes that did start would outlive the test file.
    await stopCluster(cluster).catch(() => {});
    throw err;
  }
  return {
    bootstrap: started.bootstrap,
    env,
    stateDir,
    ...(env.KAFKA_SSL_CA_FILE === undefined ? {} : { caFile: env.KAFKA_SSL_CA_FILE }),
    async stop() {
      await stopCluster(cluster);
      rmSync(stateDir, { recursive: true, force: true });
    },
    async killBroker(index: number) {
      const layout = nodeLayout(cluster, index);
      const pid = runningPid(layout);
      if (pid === undefined) throw new Error(`node ${index} is not running`);
      process.kill(pid, 'SIGKILL');
      await waitFor(`node ${index} (pid ${pid}) to be gone after SIGKILL`, () => runningPid(layout) === undefined);
      // A killed JVM leaves the process table's view (its command line reads empty) before its last
      // threads have closed its sockets: a node started again at once found its own port still
      // bound and refused to start ("taken by another program", seen once under CI's load).
      await waitFor(`node ${index}'s ports to be released after SIGKILL`, async () => (await portIsFree(layout.host, layout.port)) && portIsFree(controllerHost(layout), layout.controllerPort));
    },
    async restart() {
      await stopCluster(cluster);
      await startCluster(cluster, () => {}, brokers);
    },
    async revive() {
      await startCluster(cluster, () => {}, brokers);
    },
  };
}

