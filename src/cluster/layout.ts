// Where the nodes of a managed cluster live: each a combined KRaft broker and controller with its
// files under the state folder's node-i. On one host (one server, or servers on one host), its
// client listener on the first server's port + 2i and its controller on the port after that, on
// loopback. Spread over several hosts (the servers name several hosts, one per node), node i on
// server i's host and port, its controller on that host at the port after.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FinkError } from '../errors.ts';
import type { ClusterSettings } from './settings.ts';

/**
 * Where every controller listener of a cluster on one host binds, whatever the servers say: the
 * managed nodes share the host, and only they (and the broker side of each node) talk to the controllers.
 */
export const CONTROLLER_HOST = '127.0.0.1';

export interface NodeLayout {
  dir: string;
  /** The client listener's host: the first server's on one host, server i's when spread. */
  host: string;
  port: number;
  controllerPort: number;
  /** Spread over hosts: the controller's host (the node's own); absent on one host, where it is CONTROLLER_HOST. */
  controllerHost?: string;
  pidFile: string;
  logFile: string;
}

/** What places the nodes of a cluster. */
export type ClusterPlacement = Pick<ClusterSettings, 'servers' | 'stateDir' | 'keys'>;

function hostPort(cluster: ClusterPlacement, server: string): { host: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(server);
  if (!m) throw new FinkError(`${cluster.keys.servers}: '${server}' is not host:port`);
  return { host: m[1] as string, port: Number(m[2]) };
}

/**
 * Whether a cluster of `count` nodes is spread over hosts: its servers name more than one host, one
 * server per node. Servers all on one host keep the one-host layout (ports + 2i, controllers on
 * loopback), as they always had.
 */
export function spreadOverHosts(cluster: ClusterPlacement, count: number): boolean {
  const { servers } = cluster;
  if (servers.length < 2 || servers.length !== count) return false;
  return new Set(servers.map((s) => hostPort(cluster, s).host)).size > 1;
}

/**
 * Node i of a cluster of `count` nodes (by default as its state folder was formatted): files under
 * the state folder's node-i; on one host, clients on the first server's port + 2i and its controller
 * on the port after that; spread over hosts, clients on server i and its controller on the port after.
 */
export function nodeLayout(cluster: ClusterPlacement, index = 0, count = nodeCount(cluster)): NodeLayout {
  const dir = join(cluster.stateDir, `node-${index}`);
  const files = { pidFile: join(dir, 'kafka.pid'), logFile: join(dir, 'kafka.log') };
  if (spreadOverHosts(cluster, count)) {
    const { host, port } = hostPort(cluster, cluster.servers[index] as string);
    return { dir, host, port, controllerPort: port + 1, controllerHost: host, ...files };
  }
  const { host, port: first } = hostPort(cluster, cluster.servers[0] ?? '127.0.0.1:9092');
  const port = first + 2 * index;
  return { dir, host, port, controllerPort: port + 1, ...files };
}

/** Where a node's controller listens. */
export const controllerHost = (layout: NodeLayout): string => layout.controllerHost ?? CONTROLLER_HOST;

/** How many nodes the cluster under its state folder was formatted with (1 before the first start). */
export function nodeCount(cluster: Pick<ClusterPlacement, 'stateDir'>): number {
  const file = join(cluster.stateDir, 'nodes');
  return existsSync(file) ? Number(readFileSync(file, 'utf8').trim()) : 1;
}

export function clusterLayout(cluster: ClusterPlacement): NodeLayout[] {
  const count = nodeCount(cluster);
  return Array.from({ length: count }, (_, i) => nodeLayout(cluster, i, count));
}

/**
 * The cluster id of a cluster spread over hosts, the same on every host without a word between
 * them: derived from its servers (in the URL-safe base64 of 16 bytes that KRaft takes). Each host
 * formats its own node from its own copy of the configuration; an id drawn at random on each would
 * make three clusters of one node each, never a quorum.
 */
export function spreadClusterId(servers: readonly string[]): string {
  const digest = createHash('sha256').update(`fink-distribution cluster\n${servers.join(',')}`).digest();
  const bytes = digest.subarray(0, 16);
  // Like StorageTool's random-uuid, never a leading '-', which the tool's parser would take for an option.
  if (bytes.toString('base64url').startsWith('-')) bytes[0] = (bytes[0] as number) ^ 0x80;
  return bytes.toString('base64url');
}
