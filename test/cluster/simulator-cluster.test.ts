import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.ts';
import { freePortPair } from '../helpers/kafka.ts';
import { tempDir } from '../helpers/temp.ts';

// The simulator cluster driven through the real `fink_kafka --cluster simulator`, as a user would:
// its own ports and state folder, its schema registry started and stopped with it, and `status`
// telling both clusters apart.
describe('fink_kafka --cluster simulator', { timeout: 600_000 }, () => {
  const env: Record<string, string> = {
    KAFKA_STATE_DIR: tempDir('kafka-distribution'),
    SIMULATOR_STATE_DIR: tempDir('kafka-simulator'),
    KAFKA_HEAP_OPTS: '-Xms128m -Xmx512m',
  };

  before(async () => {
    env.DISTRIBUTION_SERVERS = `127.0.0.1:${await freePortPair()}`;
    env.SIMULATOR_SERVERS = `127.0.0.1:${await freePortPair()}`;
    env.REGISTRY_PORT = String(await freePortPair(1));
  });
  after(() => runCli('fink_kafka', ['--cluster', 'simulator', 'stop'], env));

  it('starts the simulator cluster and its registry, leaving the redistribution cluster alone', async () => {
    const r = runCli('fink_kafka', ['--cluster', 'simulator', 'start'], env);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`the simulator cluster started \\(pid \\d+\\); bootstrap servers: ${env.SIMULATOR_SERVERS}`));
    assert.match(r.stdout, new RegExp(`the schema registry started \\(pid \\d+\\) at http://127.0.0.1:${env.REGISTRY_PORT}`));
    const subjects = await fetch(`http://127.0.0.1:${env.REGISTRY_PORT}/apis/ccompat/v7/subjects`);
    assert.equal(subjects.status, 200);
  });

  it('status shows both clusters, and the registry with the simulator', () => {
    let r = runCli('fink_kafka', ['status'], env);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^Kafka is not running \\(state in ${env.KAFKA_STATE_DIR}\\)`, 'm'));
    assert.match(r.stdout, new RegExp(`^the simulator cluster is running: pid \\d+, bootstrap servers ${env.SIMULATOR_SERVERS}, 1 of 1 node\\(s\\) up, state in ${env.SIMULATOR_STATE_DIR}`, 'm'));
    assert.match(r.stdout, /^the schema registry is running: pid \d+/m);
    r = runCli('fink_kafka', ['--cluster', 'simulator', 'status'], env);
    assert.doesNotMatch(r.stdout, /^Kafka is/m);
    assert.match(r.stdout, /^the simulator cluster is running/m);
  });

  it('administers its topics with --cluster simulator', () => {
    let r = runCli('fink_kafka', ['--cluster', 'simulator', '--create-topic', 'ztf_20250101_programid1'], env);
    assert.equal(r.status, 0, r.stderr);
    r = runCli('fink_kafka', ['--cluster', 'simulator', '--list-topics'], env);
    assert.deepEqual(r.stdout.trim().split('\n'), ['ztf_20250101_programid1']);
  });

  it('says so when started again, then stops the registry and the cluster', () => {
    let r = runCli('fink_kafka', ['--cluster', 'simulator', 'start'], env);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /the simulator cluster is already running/);
    assert.match(r.stdout, /the schema registry is already running/);
    r = runCli('fink_kafka', ['--cluster', 'simulator', 'stop'], env);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /the schema registry stopped \(pid \d+\)/);
    assert.match(r.stdout, /the simulator cluster stopped \(pid \d+\)/);
    r = runCli('fink_kafka', ['--cluster', 'simulator', 'status'], env);
    assert.match(r.stdout, /the simulator cluster is not running/);
    assert.match(r.stdout, /the schema registry is not running/);
  });

  it('refuses a cluster it does not know, exit 2', () => {
    const r = runCli('fink_kafka', ['--cluster', 'upstream', 'status'], env);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--cluster: 'upstream' is not one of distribution, simulator/);
  });
});
