// The clusters that fink_kafka manages: the redistribution cluster (DISTRIBUTION_SERVERS,
// KAFKA_STATE_DIR) and the simulator cluster, the survey's side of the live chain
// (SIMULATOR_SERVERS, SIMULATOR_STATE_DIR). Both are run by cluster.ts: the simulator's is the same
// code over a view of the configuration whose Kafka keys point at the simulator's servers and folder.
import type { Config } from '../config/config.ts';

export type ClusterName = 'distribution' | 'simulator';
export const CLUSTER_NAMES: readonly ClusterName[] = ['distribution', 'simulator'];

/**
 * The configuration that cluster.ts, provisioning and the admin clients read for cluster `name`.
 * The simulator cluster is always PLAINTEXT: it stands for the survey's public stream, and the
 * redistribution cluster's credentials are not its own.
 */
export function clusterConfig(config: Config, name: ClusterName): Config {
  if (name === 'distribution') return config;
  return config.with({
    DISTRIBUTION_SERVERS: config.require('SIMULATOR_SERVERS'),
    KAFKA_STATE_DIR: config.require('SIMULATOR_STATE_DIR'),
    KAFKA_SECURITY_PROTOCOL: 'PLAINTEXT',
  });
}
