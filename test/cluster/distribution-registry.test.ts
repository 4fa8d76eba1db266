import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fetchSchemaById, registerSchema } from '../../src/avro/schema-registry.ts';
import { loadConfig } from '../../src/config/config.ts';
import { portIsFree } from '../../src/cluster/processes.ts';
import { runCli, testEnv } from '../helpers/cli.ts';
import { freePortPair } from '../helpers/kafka.ts';
import { tempDir } from '../helpers/temp.ts';

// The redistribution cluster's own schema registry, driven through the real `fink_kafka` as an
// operator would: only with --registry, on its own port and folder, shown by status, gone with stop.
describe('fink_kafka start --registry: the redistribution cluster\'s schema registry', { timeout: 900_000 }, () => {
  const env: Record<string, string> = { KAFKA_STATE_DIR: tempDir('kafka-registry'), SIMULATOR_STATE_DIR: tempDir('simulator-untouched'), KAFKA_HEAP_OPTS: '-Xms128m -Xmx512m' };
  let registryUrl: string;

  before(async () => {
    // Four free ports in a row, taken from one look: the broker's two, the registry's, the simulator's
    // registry's (another one, which stays free: the two registries are apart).
    const port = await freePortPair(4);
    env.DISTRIBUTION_SERVERS = `127.0.0.1:${port}`;
    env.DISTRIBUTION_REGISTRY_PORT = String(port + 2);
    env.REGISTRY_PORT = String(port + 3);
    registryUrl = `http://127.0.0.1:${env.DISTRIBUTION_REGISTRY_PORT}`;
  });
  after(() => runCli('fink_kafka', ['stop'], env));

  it('DISTRIBUTION_SCHEMA_REGISTRY names the managed registry by default, or the one the operator gives', () => {
    const config = loadConfig({ env: testEnv(env) });
    assert.equal(config.get('DISTRIBUTION_SCHEMA_REGISTRY'), `${registryUrl}/apis/ccompat/v7`);
    const own = loadConfig({ env: testEnv({ ...env, DISTRIBUTION_SCHEMA_REGISTRY: 'https://registry.example.org/api' }) });
    assert.equal(own.get('DISTRIBUTION_SCHEMA_REGISTRY'), 'https://registry.example.org/api');
  });

  it('install builds (or finds) the registry with --registry only', () => {
    let r = runCli('fink_kafka', ['install'], env);
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /schema registry/);
    r = runCli('fink_kafka', ['install', '--registry'], env);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^schema registry: .*fink-distribution-registry-1-runner\.jar$/m);
  });

  it('start without --registry starts no registry, and status says how to start it', async () => {
    let r = runCli('fink_kafka', ['start'], env);
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /schema registry/);
    assert.ok(await portIsFree('127.0.0.1', Number(env.DISTRIBUTION_REGISTRY_PORT)));
    r = runCli('fink_kafka', ['status'], env);
    assert.match(r.stdout, new RegExp(`^Kafka's schema registry is not running \\('fink_kafka start --registry', port ${env.DISTRIBUTION_REGISTRY_PORT}\\)$`, 'm'));
  });

  it('start --registry starts it on its own port, its files under KAFKA_STATE_DIR/registry', async () => {
    const r = runCli('fink_kafka', ['start', '--registry'], env);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^Kafka is already running/m);
    assert.match(r.stdout, new RegExp(`^Kafka's schema registry started \\(pid \\d+\\) at ${registryUrl}$`, 'm'));
    assert.ok(existsSync(join(env.KAFKA_STATE_DIR!, 'registry', 'registry.pid')));
    assert.equal(existsSync(join(env.SIMULATOR_STATE_DIR!, 'registry')), false);
    assert.ok(await portIsFree('127.0.0.1', Number(env.REGISTRY_PORT)));
  });

  it('registers a schema at DISTRIBUTION_SCHEMA_REGISTRY and gives it back by its id', async () => {
    const url = loadConfig({ env: testEnv(env) }).get('DISTRIBUTION_SCHEMA_REGISTRY') as string;
    const text = JSON.stringify({ type: 'record', name: 'alert', namespace: 'fink.test', fields: [{ name: 'objectId', type: 'string' }, { name: 'ra', type: 'double' }] });
    const id = await registerSchema(url, 'fink_test_ztf-value', text);
    assert.equal(await fetchSchemaById(url, id), text);
    assert.deepEqual(await (await fetch(`${url}/subjects`)).json(), ['fink_test_ztf-value']);
  });

  it('status shows it running; start --registry again says so', () => {
    let r = runCli('fink_kafka', ['status'], env);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^Kafka's schema registry is running: pid \\d+, ${registryUrl} \\(Confluent-compatible API under /apis/ccompat/v7\\)$`, 'm'));
    // The simulator's registry is its own line, and not running.
    assert.match(r.stdout, /^the schema registry is not running/m);
    r = runCli('fink_kafka', ['start', '--registry'], env);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^Kafka's schema registry is already running \(pid \d+\)/m);
  });

  it('stop stops it with the cluster: its process and port gone', async () => {
    let r = runCli('fink_kafka', ['stop'], env);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^Kafka's schema registry stopped \(pid \d+\)$/m);
    assert.match(r.stdout, /^Kafka stopped \(pid \d+\)$/m);
    assert.ok(await portIsFree('127.0.0.1', Number(env.DISTRIBUTION_REGISTRY_PORT)));
    await assert.rejects(fetch(`${registryUrl}/apis/ccompat/v7/subjects`));
    r = runCli('fink_kafka', ['status'], env);
    assert.match(r.stdout, /^Kafka's schema registry is not running/m);
    assert.equal(existsSync(join(env.KAFKA_STATE_DIR!, 'registry', 'registry.pid')), false);
  });
});
