import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { clusterLayout, nodeCount, nodeLayout } from '../../src/cluster/layout.ts';
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
});
