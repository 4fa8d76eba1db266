import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clusterConnection, clusterSettings } from '../../src/cluster/settings.ts';
import { loadConfig } from '../../src/config/config.ts';
import { UsageError } from '../../src/errors.ts';
import { tempDir } from '../helpers/temp.ts';

const SECURED = { KAFKA_SECURITY_PROTOCOL: 'SASL_PLAINTEXT', KAFKA_ADMIN_USERNAME: 'root', KAFKA_ADMIN_PASSWORD: 'secret' };
const config = (env: Record<string, string>) => loadConfig({ env: { FINK_HOME: tempDir('cluster-settings'), ...env } });

describe('cluster settings', () => {
  it('reads the simulator cluster from its own keys, not the distribution\'s', () => {
    const simulator = clusterSettings(config({ SIMULATOR_SERVERS: '127.0.0.1:9300', SIMULATOR_STATE_DIR: '/sim', DISTRIBUTION_SERVERS: '127.0.0.1:9092', KAFKA_STATE_DIR: '/dist' }), 'simulator');
    assert.deepEqual(simulator.servers, ['127.0.0.1:9300']);
    assert.equal(simulator.stateDir, '/sim');
  });

  it('keeps the simulator cluster open and with its registry when the distribution cluster is secured', () => {
    const simulator = clusterSettings(config({ ...SECURED, REGISTRY_PORT: '8181', SIMULATOR_STATE_DIR: '/sim' }), 'simulator');
    assert.equal(simulator.secured, false);
    assert.deepEqual(clusterConnection(simulator), { bootstrapBrokers: simulator.servers });
    assert.equal(simulator.registry?.port, 8181);
    assert.equal(simulator.registry?.dir, '/sim/registry');
  });

  it('gives the redistribution cluster a registry of its own, not started with it (only with --registry)', () => {
    const registry = clusterSettings(config({ KAFKA_STATE_DIR: '/dist', DISTRIBUTION_REGISTRY_PORT: '8282' }), 'distribution').registry;
    assert.equal(registry?.withCluster, false);
    assert.equal(registry?.port, 8282);
    assert.equal(registry?.host, '127.0.0.1');
    assert.equal(registry?.dir, '/dist/registry');
    assert.equal(registry?.gate, undefined);
  });

  it("puts a secured cluster's registry behind a gate: writers the super user and the distribution's user, reads open by default", () => {
    const gate = clusterSettings(config({ ...SECURED, KAFKA_SASL_USERNAME: 'fink', DISTRIBUTION_SERVERS: '127.0.0.1:9500' }), 'distribution').registry?.gate;
    assert.deepEqual(gate, { reads: 'open', writers: ['root', 'fink'], servers: ['127.0.0.1:9500'] });
    const same = clusterSettings(config({ ...SECURED, KAFKA_SASL_USERNAME: 'root', DISTRIBUTION_REGISTRY_READS: 'authenticated' }), 'distribution').registry?.gate;
    assert.deepEqual([same?.writers, same?.reads], [['root'], 'authenticated']);
  });

  it('connects to a secured cluster as its super user', () => {
    const cluster = clusterSettings(config(SECURED), 'distribution');
    assert.deepEqual(clusterConnection(cluster).sasl, { mechanism: 'SCRAM-SHA-512', username: 'root', password: 'secret' });
  });

  it('names the missing super user\'s password only when a connection needs it', () => {
    const cluster = clusterSettings(config({ ...SECURED, KAFKA_ADMIN_PASSWORD: '' }), 'distribution');
    assert.throws(() => clusterConnection(cluster), (err: unknown) => err instanceof UsageError && /KAFKA_ADMIN_PASSWORD is not set/.test(err.message));
  });

  it('splits the heap options into JVM arguments', () => {
    assert.deepEqual(clusterSettings(config({ KAFKA_HEAP_OPTS: ' -Xms1g  -Xmx2g ' }), 'distribution').heapOpts, ['-Xms1g', '-Xmx2g']);
  });
});
