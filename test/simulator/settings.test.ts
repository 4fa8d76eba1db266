import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/config.ts';
import { simulatorSettings } from '../../src/simulator/settings.ts';
import { tempDir } from '../helpers/temp.ts';

describe('simulator settings', () => {
  it('replays on SIMULATOR_SERVERS without credentials, whatever the distribution cluster\'s security', () => {
    const settings = simulatorSettings(loadConfig({ env: { FINK_HOME: tempDir('simulator-settings'), SIMULATOR_SERVERS: '127.0.0.1:9300', KAFKA_SECURITY_PROTOCOL: 'SASL_PLAINTEXT', KAFKA_ADMIN_PASSWORD: 'x' } }));
    assert.deepEqual(settings.connection, { bootstrapBrokers: ['127.0.0.1:9300'] });
  });

  it('takes the partitions and the registry from SIMULATOR_PARTITIONS and SIMULATOR_REGISTRY_URL', () => {
    const settings = simulatorSettings(loadConfig({ env: { FINK_HOME: tempDir('simulator-settings'), SIMULATOR_PARTITIONS: '5', SIMULATOR_REGISTRY_URL: 'http://127.0.0.1:1/apis/ccompat/v7' } }));
    assert.equal(settings.partitions, 5);
    assert.equal(settings.registryUrl, 'http://127.0.0.1:1/apis/ccompat/v7');
  });
});
