// What the replay reads of the configuration, resolved once at the entry point: the simulator
// cluster it writes to (its own keys, SIMULATOR_*), how its topics are made, and the registry
// where Rubin's schemas are registered.
import type { Config } from '../config/config.ts';
import type { KafkaConnection } from '../kafka/client-options.ts';
import { clusterConnection, clusterSettings } from '../cluster/settings.ts';

export interface SimulatorSettings {
  /** The simulator cluster, always PLAINTEXT. */
  connection: KafkaConnection;
  /** Partitions of the topics the replay creates. */
  partitions: number;
  /** The Confluent-compatible API of the schema registry (SIMULATOR_REGISTRY_URL). */
  registryUrl: string;
}

export function simulatorSettings(config: Config): SimulatorSettings {
  return {
    connection: clusterConnection(clusterSettings(config, 'simulator')),
    partitions: config.int('SIMULATOR_PARTITIONS'),
    registryUrl: config.require('SIMULATOR_REGISTRY_URL'),
  };
}
