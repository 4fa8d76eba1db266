// Where the nodes of a managed cluster live: each a combined KRaft broker and controller with its
// files under the state folder's node-i, its client listener on the first server's port + 2i and
// its controller on the port after that.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FinkError } from '../errors.ts';
import type { ClusterSettings } from './settings.ts';

/**
 * Where every controller listener binds, whatever the servers say: the managed nodes share one
 * host, and only they (and the broker side of each node) talk to the controllers.
 */
export const CONTROLLER_HOST = '127.0.0.1';

export interface NodeLayout {
  dir: string;
  /** The client listener's host, the first server's; the controller's is CONTROLLER_HOST. */
  host: string;
  port: number;
  controllerPort: number;
  pidFile: string;
  logFile: string;
}

/** What places the nodes of a cluster. */
export type ClusterPlacement = Pick<ClusterSettings, 'servers' | 'stateDir' | 'keys'>;

/**
 * Node i of the cluster: clients on the first server's port + 2i, its controller on the port after
 * that, files under the state folder's node-i.
 */
export function nodeLayout(cluster: ClusterPlacement, index = 0): NodeLayout {
  const dir = join(cluster.stateDir, `node-${index}`);
  const first = cluster.servers[0] ?? '127.0.0.1:9092';
  const m = /^(.*):(\d+)$/.exec(first);
  if (!m) throw new FinkError(`${cluster.keys.servers}: '${first}' is not host:port`);
  const port = Number(m[2]) + 2 * index;
  return { dir, host: m[1] as string, port, controllerPort: port + 1, pidFile: join(dir, 'kafka.pid'), logFile: join(dir, 'kafka.log') };
}

/** How many nodes the cluster under its state folder was formatted with (1 before the first start). */
export function nodeCount(cluster: ClusterPlacement): number {
  const file = join(cluster.stateDir, 'nodes');
  return existsSync(file) ? Number(readFileSync(file, 'utf8').trim()) : 1;
}

export function clusterLayout(cluster: ClusterPlacement): NodeLayout[] {
  return Array.from({ length: nodeCount(cluster) }, (_, i) => nodeLayout(cluster, i));
}
