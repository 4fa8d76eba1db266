import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/config.ts';
import { nodeLayout, spreadClusterId } from '../../src/cluster/layout.ts';
import { runningPid } from '../../src/cluster/processes.ts';
import { ensureKafkaJars } from '../../src/cluster/provision.ts';
import { clusterSettings } from '../../src/cluster/settings.ts';
import { runCli, testEnv } from '../helpers/cli.ts';
import { BROKER_PORT, exactlyOnce, partitioned, processRuns, produceFrom, readCommittedFrom, startHostCluster, type HostCluster } from '../helpers/host-cluster.ts';
import { canMakeHosts, links, makeHosts, namespaces, type Host, type TestHosts } from '../helpers/hosts.ts';
import { haveKcat } from '../helpers/readers.ts';
import { tempDir } from '../helpers/temp.ts';
import { waitFor } from '../helpers/wait.ts';

// The managed cluster spread over hosts of the test's own (network namespaces on a bridge): three
// brokers on three hosts, each started there with `fink_kafka start --brokers 3 --node I`, and a
// client on a fourth host.

const BROKERS = 3;

/** The key=value lines of a node's meta.properties. */
function metaProperties(stateDir: string, index: number): Map<string, string> {
  const text = readFileSync(join(stateDir, `node-${index}`, 'data', 'meta.properties'), 'utf8');
  return new Map(text.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as [string, string]));
}

/** `k<from>:v<from>` .. for kcat's -K :, and how they read back (`%k=%s`). */
const written = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `k${from + i}:v${from + i}`);
const readBack = (lines: string[]) => lines.map((l) => l.replace(':', '='));

describe('a managed cluster spread over three hosts', { timeout: 1_800_000 }, () => {
  let hosts: TestHosts | undefined;
  let cluster: HostCluster | undefined;
  const client = () => (hosts as TestHosts).hosts[BROKERS] as Host;
  const fromClient = () => ({ hosts: hosts as TestHosts, servers: (cluster as HostCluster).servers });
  const produce = (lines: string[]) => produceFrom(fromClient().hosts, client(), fromClient().servers, 'spread', lines);
  const assertEachOnce = (expected: string[]) => {
    const read = readCommittedFrom(fromClient().hosts, client(), fromClient().servers, 'spread');
    assert.deepEqual(exactlyOnce(read, expected), { missing: [], doubled: [], unexpected: [] });
  };
  const describeTopic = async () => {
    const described = await (hosts as TestHosts).runCli(client(), 'fink_kafka', ['--describe-topic', 'spread'], (cluster as HostCluster).clientEnv());
    assert.equal(described.status, 0, described.output);
    return described.output;
  };
  /** Waits until every partition of the topic has its three replicas in sync (a node that came back caught up). */
  const allInSync = () => waitFor('every partition of spread with its 3 replicas in sync', async () => {
    const text = await describeTopic();
    const isrs = [...text.matchAll(/isr (\S+)/g)].map((m) => m[1]!.split(',').length);
    return isrs.length === 3 && isrs.every((n) => n === 3);
  }, { timeoutMs: 300_000, everyMs: 2000 });

  after(async () => {
    // Whatever a failed test left running goes with its namespace.
    await hosts?.remove();
    cluster?.removeState();
  });

  it('starts node I on host I with fink_kafka start --brokers 3 --node I, one cluster of three', async (t) => {
    if (!canMakeHosts(t)) return;
    hosts = makeHosts(BROKERS + 1);
    cluster = await startHostCluster(hosts, BROKERS);
    for (const [i, output] of cluster.startOutputs.entries()) {
      assert.match(output, new RegExp(`waiting up to \\d+ s for node ${i} \\(${hosts.hosts[i]!.address.replace(/\./g, '\\.')}:${BROKER_PORT}\\) to answer; it answers once a majority of the 3 controllers \\(2 nodes\\) run`));
      assert.match(output, /Kafka started \(pid \d+\); bootstrap servers: /);
      // Each host formats and runs its own node only, all with one cluster id.
      assert.deepEqual(readdirSync(cluster.stateDirs[i]!).filter((f) => f.startsWith('node-')), [`node-${i}`]);
      const meta = metaProperties(cluster.stateDirs[i]!, i);
      assert.equal(meta.get('node.id'), String(i + 1));
      assert.equal(meta.get('cluster.id'), spreadClusterId(cluster.servers.split(',')));
    }
    const again = await hosts.runCli(hosts.hosts[2]!, 'fink_kafka', ['start', '--brokers', '3', '--node', '2'], cluster.brokerEnv(2));
    assert.equal(again.status, 0, again.output);
    assert.match(again.output, new RegExp(`Kafka is already running \\(pid ${runningPid(cluster.layout(2))}\\)`));
    const status = await hosts.runCli(hosts.hosts[1]!, 'fink_kafka', ['status', '--cluster', 'distribution'], cluster.brokerEnv(1));
    assert.match(status.output, /node\(s\) 1 up of the 1 on this host \(node\(s\) 1; a cluster of 3 spread over hosts\)/);
  });

  it('serves a client on a fourth host: a topic replicated three times, every message read once at read_committed', async (t) => {
    if (hosts === undefined || cluster === undefined) return void t.skip('no cluster (the first test did not start it)');
    if (!haveKcat(t)) return;
    const created = await hosts.runCli(client(), 'fink_kafka', ['--create-topic', 'spread', '--partitions', '3', '--replication-factor', '3'], cluster.clientEnv());
    assert.equal(created.status, 0, created.output);
    // min.insync.replicas=2 with Kafka's own tool: acks=all then needs two copies, and one broker may go.
    const libs = ensureKafkaJars(clusterSettings(loadConfig({ env: testEnv({}) }), 'distribution'));
    const configured = hosts.run(client(), 'java', ['-cp', `${libs}/*`, 'kafka.admin.ConfigCommand', '--bootstrap-server', cluster.servers, '--alter', '--entity-type', 'topics', '--entity-name', 'spread', '--add-config', 'min.insync.replicas=2']);
    assert.equal(configured.status, 0, configured.stdout + configured.stderr);
    const partitions = [...(await describeTopic()).matchAll(/replicas (\d,\d,\d)/g)];
    assert.equal(partitions.length, 3);
    for (const [, replicas] of partitions) assert.deepEqual(replicas!.split(',').sort(), ['1', '2', '3']);
    produce(written(0, 300));
    assertEachOnce(readBack(written(0, 300)));
  });

  it('goes on with a broker cut off the network for 30 s, which then catches up', async (t) => {
    if (hosts === undefined || cluster === undefined) return void t.skip('no cluster (the first test did not start it)');
    if (!haveKcat(t)) return;
    await partitioned(hosts, cluster.brokers[2]!, 30_000, async () => produce(written(300, 600)));
    // Read once it has caught up: a read right after the cut ended once missed the messages written
    // during it to some partitions, ended where they stood before the cut (presumably answered by
    // the node just back, from its metadata of before).
    await allInSync();
    assertEachOnce(readBack(written(0, 600)));
  });

  it('goes on with a broker SIGKILLed: writes at acks=all (min ISR 2) succeed, every message is read once, and the node started again catches up', async (t) => {
    if (hosts === undefined || cluster === undefined) return void t.skip('no cluster (the first test did not start it)');
    if (!haveKcat(t)) return;
    await cluster.killBroker(1);
    produce(written(600, 900));
    assertEachOnce(readBack(written(0, 900)));
    for (const [, leader] of (await describeTopic()).matchAll(/leader (\d+)/g)) assert.notEqual(leader, '2', 'no partition led by the killed node');
    await cluster.reviveBroker(1);
    await allInSync();
    assertEachOnce(readBack(written(0, 900)));
  });

  it('stops each node on its host with fink_kafka stop --node I, and leaves no namespace, link or process behind', async (t) => {
    if (hosts === undefined || cluster === undefined) return void t.skip('no cluster (the first test did not start it)');
    const pids = cluster.brokers.map((_, i) => runningPid(cluster!.layout(i)));
    const outputs = await cluster.stop();
    for (const [i, output] of outputs.entries()) assert.match(output, pids[i] === undefined ? /Kafka is not running/ : new RegExp(`Kafka stopped \\(pid ${pids[i]}\\)`));
    for (const pid of pids.filter((p) => p !== undefined)) await waitFor(`broker ${pid} to be gone`, () => !processRuns(pid), { timeoutMs: 30_000 });
    const names = hosts.names();
    await hosts.remove();
    hosts = undefined;
    const left = [...namespaces(), ...links()];
    assert.deepEqual(names.filter((n) => left.includes(n)), []);
  });
});

describe('fink_kafka start --node with its peers away', { timeout: 600_000 }, () => {
  let hosts: TestHosts | undefined;
  const stateDir = tempDir('kafka-alone');
  after(async () => {
    await hosts?.remove();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('waits for its own node, saying what it needs, and at the deadline stops it and names what was missing', async (t) => {
    if (!canMakeHosts(t)) return;
    hosts = makeHosts(3);
    const servers = hosts.hosts.map((h) => `${h.address}:${BROKER_PORT}`).join(',');
    // The other two are never started: however fast the machine, node 0 cannot answer.
    const env = { DISTRIBUTION_SERVERS: servers, KAFKA_STATE_DIR: stateDir, KAFKA_HEAP_OPTS: '-Xms128m -Xmx512m', KAFKA_START_TIMEOUT_S: '20' };
    const run = await hosts.runCli(hosts.hosts[0]!, 'fink_kafka', ['start', '--brokers', '3', '--node', '0'], env);
    assert.equal(run.status, 1, run.output);
    const node = `node 0 \\(${hosts.hosts[0]!.address.replace(/\./g, '\\.')}:${BROKER_PORT}\\)`;
    assert.match(run.output, new RegExp(`waiting up to 20 s for ${node} to answer; it answers once a majority of the 3 controllers \\(2 nodes\\) run: start the others on their hosts`));
    assert.match(run.output, new RegExp(`${node} did not answer within 20 s \\(.*\\); it answers once a majority`));
    const layout = nodeLayout({ servers: servers.split(','), stateDir, keys: { servers: 'DISTRIBUTION_SERVERS', stateDir: 'KAFKA_STATE_DIR' } }, 0, 3);
    assert.equal(runningPid(layout), undefined, 'the node that this start began is stopped');
    const inHost = spawnSync('ip', ['netns', 'pids', hosts.hosts[0]!.netns], { encoding: 'utf8' }).stdout.split('\n').filter((p) => p !== '').map(Number);
    assert.deepEqual(inHost.filter(processRuns), [], 'nothing left running on the host');
  });
});

describe('fink_kafka --node', () => {
  const env = (servers: string, extra: Record<string, string> = {}) => ({ DISTRIBUTION_SERVERS: servers, KAFKA_STATE_DIR: tempDir('kafka-node-flag'), ...extra });
  const SPREAD = '10.250.0.1:9092,10.250.0.2:9092,10.250.0.3:9092';

  it('is described by --help', () => {
    const r = runCli('fink_kafka', ['--help'], {});
    assert.match(r.stdout, /start --brokers N --node I/);
    assert.match(r.stdout, /stop \[--node I\]/);
    assert.match(r.stdout, /PLAINTEXT only/);
  });

  it('is needed when the servers name one host per node: each node is started on its own host', () => {
    const r = runCli('fink_kafka', ['start', '--brokers', '3'], env(SPREAD));
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /DISTRIBUTION_SERVERS \(10\.250\.0\.1:9092,10\.250\.0\.2:9092,10\.250\.0\.3:9092\) names one host per node: start each node on its own host with 'fink_kafka start --brokers 3 --node I'/);
  });

  it('is refused for a cluster on one host, and beyond the nodes there are', () => {
    const oneHost = runCli('fink_kafka', ['start', '--brokers', '3', '--node', '1'], env('127.0.0.1:9092'));
    assert.equal(oneHost.status, 2);
    assert.match(oneHost.stderr, /--node is for a cluster spread over several hosts/);
    const beyond = runCli('fink_kafka', ['start', '--brokers', '3', '--node', '3'], env(SPREAD));
    assert.equal(beyond.status, 2);
    assert.match(beyond.stderr, /--node 3: the cluster has 3 nodes, numbered from 0/);
  });

  it('stops nothing on a host that never ran node I, and says so', () => {
    const r = runCli('fink_kafka', ['stop', '--node', '2'], env(SPREAD));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Kafka is not running/);
  });

  it('refuses secured mode for a cluster spread over hosts, saying why', () => {
    const r = runCli('fink_kafka', ['start', '--brokers', '3', '--node', '0'], env(SPREAD, { KAFKA_SECURITY_PROTOCOL: 'SASL_PLAINTEXT', KAFKA_ADMIN_PASSWORD: 'a-long-enough-password-1' }));
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /spread over several hosts .* runs in PLAINTEXT mode only; secured mode \(KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT\)/);
  });
});
