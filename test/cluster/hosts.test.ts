import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/config.ts';
import { nodeLayout, spreadClusterId } from '../../src/cluster/layout.ts';
import { runningPid } from '../../src/cluster/processes.ts';
import { ensureKafkaJars } from '../../src/cluster/provision.ts';
import { clusterSettings } from '../../src/cluster/settings.ts';
import { runCli, testEnv } from '../helpers/cli.ts';
import { canMakeHosts, links, makeHosts, namespaces, type Host, type TestHosts } from '../helpers/hosts.ts';
import { haveKcat } from '../helpers/readers.ts';
import { tempDir } from '../helpers/temp.ts';
import { waitFor } from '../helpers/wait.ts';

// The managed cluster spread over hosts of the test's own (network namespaces on a bridge): three
// brokers on three hosts, each started there with `fink_kafka start --brokers 3 --node I`, and a
// client on a fourth host.

const BROKERS = 3;
const PORT = 9092;

/** The key=value lines of a node's meta.properties. */
function metaProperties(stateDir: string, index: number): Map<string, string> {
  const text = readFileSync(join(stateDir, `node-${index}`, 'data', 'meta.properties'), 'utf8');
  return new Map(text.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as [string, string]));
}

/** Whether a process runs: not gone, nor a zombie that its new parent has yet to reap. */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('a managed cluster spread over three hosts', { timeout: 1_800_000 }, () => {
  let hosts: TestHosts | undefined;
  let servers = '';
  const stateDirs = Array.from({ length: BROKERS }, (_, i) => tempDir(`kafka-host${i}`));
  const brokerEnv = (i: number) => ({ DISTRIBUTION_SERVERS: servers, KAFKA_STATE_DIR: stateDirs[i] as string, KAFKA_HEAP_OPTS: '-Xms128m -Xmx512m' });
  const clientEnv = () => ({ DISTRIBUTION_SERVERS: servers, KAFKA_STATE_DIR: tempDir('kafka-client') });
  const client = () => (hosts as TestHosts).hosts[BROKERS] as Host;
  const kcat = (args: string[], input?: string) => (hosts as TestHosts).run(client(), 'kcat', ['-b', servers, ...args], input === undefined ? {} : { input });
  const readCommitted = (topic: string) => {
    const run = kcat(['-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-X', 'isolation.level=read_committed', '-f', '%k=%s\n']);
    assert.equal(run.status, 0, `kcat reading ${topic}: ${run.stderr}`);
    return run.stdout.split('\n').slice(0, -1).sort();
  };
  const produce = (topic: string, from: number, to: number) => {
    const lines = Array.from({ length: to - from }, (_, i) => `k${from + i}:v${from + i}\n`).join('');
    const run = kcat(['-P', '-t', topic, '-K', ':', '-X', 'acks=all', '-X', 'enable.idempotence=true'], lines);
    assert.equal(run.status, 0, `kcat writing ${topic}: ${run.stderr}`);
  };
  const expected = (n: number) => Array.from({ length: n }, (_, i) => `k${i}=v${i}`).sort();

  after(async () => {
    // Whatever a failed test left running goes with its namespace.
    await hosts?.remove();
    for (const dir of stateDirs) rmSync(dir, { recursive: true, force: true });
  });

  it('starts node I on host I with fink_kafka start --brokers 3 --node I, one cluster of three', async (t) => {
    if (!canMakeHosts(t)) return;
    hosts = makeHosts(BROKERS + 1);
    servers = hosts.hosts.slice(0, BROKERS).map((h) => `${h.address}:${PORT}`).join(',');
    const starts = await Promise.all(hosts.hosts.slice(0, BROKERS).map((h, i) => hosts!.runCli(h, 'fink_kafka', ['start', '--brokers', String(BROKERS), '--node', String(i)], brokerEnv(i))));
    for (const [i, start] of starts.entries()) {
      assert.equal(start.status, 0, `node ${i}: ${start.output}`);
      assert.match(start.output, new RegExp(`waiting up to \\d+ s for node ${i} \\(${hosts.hosts[i]!.address.replace(/\./g, '\\.')}:${PORT}\\) to answer; it answers once a majority of the 3 controllers \\(2 nodes\\) run`));
      assert.match(start.output, /Kafka started \(pid \d+\); bootstrap servers: /);
      // Each host formats and runs its own node only.
      assert.deepEqual(readdirSync(stateDirs[i]!).filter((f) => f.startsWith('node-')), [`node-${i}`]);
      const meta = metaProperties(stateDirs[i]!, i);
      assert.equal(meta.get('node.id'), String(i + 1));
      assert.equal(meta.get('cluster.id'), spreadClusterId(servers.split(',')));
    }
    const status = await hosts.runCli(hosts.hosts[1]!, 'fink_kafka', ['status', '--cluster', 'distribution'], brokerEnv(1));
    assert.match(status.output, /node\(s\) 1 up of the 1 on this host \(node\(s\) 1; a cluster of 3 spread over hosts\)/);
  });

  it('serves a client on a fourth host: a topic replicated three times, every message read once at read_committed', async (t) => {
    if (hosts === undefined) return void t.skip('no cluster (the first test did not start it)');
    if (!haveKcat(t)) return;
    const created = await hosts.runCli(client(), 'fink_kafka', ['--create-topic', 'spread', '--partitions', '3', '--replication-factor', '3'], clientEnv());
    assert.equal(created.status, 0, created.output);
    // min.insync.replicas=2 with Kafka's own tool: acks=all then needs two copies, and one broker may go.
    const libs = ensureKafkaJars(clusterSettings(loadConfig({ env: testEnv({}) }), 'distribution'));
    const configured = hosts.run(client(), 'java', ['-cp', `${libs}/*`, 'kafka.admin.ConfigCommand', '--bootstrap-server', servers, '--alter', '--entity-type', 'topics', '--entity-name', 'spread', '--add-config', 'min.insync.replicas=2']);
    assert.equal(configured.status, 0, configured.stdout + configured.stderr);
    const described = await hosts.runCli(client(), 'fink_kafka', ['--describe-topic', 'spread'], clientEnv());
    assert.equal(described.status, 0, described.output);
    const partitions = [...described.output.matchAll(/leader (\d+)\s+replicas (\d,\d,\d)\s+isr (\S+)/g)];
    assert.equal(partitions.length, 3, described.output);
    for (const [, , replicas] of partitions) assert.deepEqual(replicas!.split(',').sort(), ['1', '2', '3']);
    produce('spread', 0, 300);
    assert.deepEqual(readCommitted('spread'), expected(300));
  });

  it('goes on with a broker SIGKILLed: writes at acks=all (min ISR 2) succeed and every message is read once', async (t) => {
    if (hosts === undefined || servers === '') return void t.skip('no cluster (the first test did not start it)');
    if (!haveKcat(t)) return;
    const layout = nodeLayout({ servers: servers.split(','), stateDir: stateDirs[1]!, keys: { servers: 'DISTRIBUTION_SERVERS', stateDir: 'KAFKA_STATE_DIR' } }, 1, BROKERS);
    const pid = runningPid(layout);
    assert.ok(pid !== undefined, 'node 1 runs');
    process.kill(pid, 'SIGKILL');
    await waitFor(`node 1 (pid ${pid}) to be gone after SIGKILL`, () => runningPid(layout) === undefined);
    produce('spread', 300, 600);
    assert.deepEqual(readCommitted('spread'), expected(600));
    const described = await hosts.runCli(client(), 'fink_kafka', ['--describe-topic', 'spread'], clientEnv());
    for (const [, leader] of described.output.matchAll(/leader (\d+)/g)) assert.notEqual(leader, '2', `no partition led by the killed node:\n${described.output}`);
  });

  it('stops each node on its host with fink_kafka stop --node I, and leaves no namespace, link or process behind', async (t) => {
    if (hosts === undefined) return void t.skip('no hosts (the first test did not make them)');
    const pids = stateDirs.map((dir, i) => runningPid(nodeLayout({ servers: servers.split(','), stateDir: dir, keys: { servers: 'DISTRIBUTION_SERVERS', stateDir: 'KAFKA_STATE_DIR' } }, i, BROKERS)));
    // All at once, as their hosts would: stopped one after the other, the last node has lost its
    // quorum and waits out the grace period before its SIGKILL.
    const stops = await Promise.all(hosts.hosts.slice(0, BROKERS).map((host, i) => hosts!.runCli(host, 'fink_kafka', ['stop', '--node', String(i)], brokerEnv(i))));
    for (const [i, stop] of stops.entries()) {
      assert.equal(stop.status, 0, stop.output);
      assert.match(stop.output, pids[i] === undefined ? /Kafka is not running/ : new RegExp(`Kafka stopped \\(pid ${pids[i]}\\)`));
    }
    for (const pid of pids.filter((p) => p !== undefined)) await waitFor(`broker ${pid} to be gone`, () => !running(pid), { timeoutMs: 30_000 });
    const names = hosts.names();
    await hosts.remove();
    hosts = undefined;
    const left = [...namespaces(), ...links()];
    assert.deepEqual(names.filter((n) => left.includes(n)), []);
    for (const dir of stateDirs) assert.ok(existsSync(dir));
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

  it('refuses secured mode for a cluster spread over hosts, saying why', () => {
    const r = runCli('fink_kafka', ['start', '--brokers', '3', '--node', '0'], env(SPREAD, { KAFKA_SECURITY_PROTOCOL: 'SASL_PLAINTEXT', KAFKA_ADMIN_PASSWORD: 'a-long-enough-password-1' }));
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /spread over several hosts .* runs in PLAINTEXT mode only; secured mode \(KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT\)/);
  });
});
