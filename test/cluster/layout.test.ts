import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { clusterLayout, nodeCount, nodeLayout, spreadClusterId, spreadOverHosts } from '../../src/cluster/layout.ts';
import { FinkError } from '../../src/errors.ts';
import { tempDir } from '../helpers/temp.ts';

const DISTRIBUTION = { servers: 'DISTRIBUTION_SERVERS', stateDir: 'KAFKA_STATE_DIR' } as const;
const SIMULATOR = { servers: 'SIMULATOR_SERVERS', stateDir: 'SIMULATOR_STATE_DIR' } as const;

describe('the layout of a managed cluster', () => {
  it('puts node i on the first server\'s port + 2i, its controller on the next port, its files under node-i', () => {
    const node = nodeLayout({ servers: ['10.0.0.5:9500', '10.0.0.5:9502'], stateDir: '/state', keys: DISTRIBUTION }, 2);
    assert.deepEqual(node, { dir: join('/state', 'node-2'), host: '10.0.0.5', port: 9504, controllerPort: 9505, pidFile: join('/state', 'node-2', 'kafka.pid'), logFile: join('/state', 'node-2', 'kafka.log') });
  });

  it('names a server that is not host:port, and the key it came from', () => {
    assert.throws(() => nodeLayout({ servers: ['localhost'], stateDir: '/state', keys: SIMULATOR }), (err: unknown) => err instanceof FinkError && /^SIMULATOR_SERVERS: 'localhost' is not host:port/.test(err.message));
  });

  it('counts one node in a state folder never started', () => {
    const cluster = { servers: ['127.0.0.1:9092'], stateDir: tempDir('layout'), keys: DISTRIBUTION };
    assert.equal(nodeCount(cluster), 1);
    assert.equal(clusterLayout(cluster).length, 1);
  });

  it('spreads the nodes over hosts when the servers name several hosts, one per node: node i on server i, its controller on that host at the next port', () => {
    const cluster = { servers: ['10.9.0.1:9092', '10.9.0.2:9192', '10.9.0.3:9092'], stateDir: '/state', keys: DISTRIBUTION };
    assert.equal(spreadOverHosts(cluster, 3), true);
    assert.deepEqual(nodeLayout(cluster, 1, 3), { dir: join('/state', 'node-1'), host: '10.9.0.2', port: 9192, controllerPort: 9193, controllerHost: '10.9.0.2', pidFile: join('/state', 'node-1', 'kafka.pid'), logFile: join('/state', 'node-1', 'kafka.log') });
    assert.deepEqual(nodeLayout(cluster, 2, 3).controllerHost, '10.9.0.3');
  });

  it('keeps the one-host layout for servers on one host, for a count that is not the servers\' and for a single server', () => {
    const oneHost = { servers: ['10.9.0.1:9092', '10.9.0.1:9094', '10.9.0.1:9096'], stateDir: '/state', keys: DISTRIBUTION };
    assert.equal(spreadOverHosts(oneHost, 3), false);
    assert.deepEqual(nodeLayout(oneHost, 2, 3), nodeLayout({ ...oneHost, servers: ['10.9.0.1:9092'] }, 2, 3));
    assert.equal(nodeLayout(oneHost, 2, 3).controllerHost, undefined);
    const hosts = { servers: ['10.9.0.1:9092', '10.9.0.2:9092'], stateDir: '/state', keys: DISTRIBUTION };
    assert.equal(spreadOverHosts(hosts, 3), false);
    assert.equal(nodeLayout(hosts, 2, 3).port, 9096);
    assert.equal(spreadOverHosts({ ...hosts, servers: ['10.9.0.1:9092'] }, 1), false);
  });

  it('derives one cluster id from the servers, the same on every host, another for other servers', () => {
    const servers = ['10.9.0.1:9092', '10.9.0.2:9092', '10.9.0.3:9092'];
    const id = spreadClusterId(servers);
    assert.match(id, /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    assert.equal(spreadClusterId([...servers]), id);
    assert.notEqual(spreadClusterId(['10.9.0.1:9092', '10.9.0.2:9092', '10.9.0.4:9092']), id);
    for (let i = 0; i < 200; i++) assert.doesNotMatch(spreadClusterId([`h${i}:1`, 'x:2']), /^-/);
  });
});
