// Connection options for @platformatic/kafka clients, derived from the configuration.
import type { Config } from '../config/config.ts';

export interface KafkaConnection {
  bootstrapBrokers: string[];
  sasl?: { mechanism: 'SCRAM-SHA-512'; username: string; password: string };
}

export function kafkaClientOptions(config: Config, who: 'client' | 'admin' = 'client'): KafkaConnection {
  const bootstrapBrokers = config.list('DISTRIBUTION_SERVERS');
  if (config.get('KAFKA_SECURITY_PROTOCOL') !== 'SASL_PLAINTEXT') return { bootstrapBrokers };
  const [userKey, passKey] = who === 'admin' ? ['KAFKA_ADMIN_USERNAME', 'KAFKA_ADMIN_PASSWORD'] : ['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'];
  return {
    bootstrapBrokers,
    sasl: { mechanism: 'SCRAM-SHA-512', username: config.require(userKey), password: config.require(passKey) },
  };
}
