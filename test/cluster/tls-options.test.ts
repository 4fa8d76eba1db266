import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { clientCaFile, subjectAltNames } from '../../src/cluster/certificates.ts';
import { nodeLayout } from '../../src/cluster/layout.ts';
import { serverProperties } from '../../src/cluster/server-properties.ts';
import { clusterSettings } from '../../src/cluster/settings.ts';
import { loadConfig } from '../../src/config/config.ts';
import { kafkaClientOptions, upstreamClientOptions } from '../../src/kafka/client-options.ts';
import { testEnv } from '../helpers/cli.ts';
import { tempDir } from '../helpers/temp.ts';

const dir = tempDir('tls-options');
const pem = (name: string) => {
  const file = join(dir, name);
  writeFileSync(file, `-----BEGIN ${name}-----\n`);
  return file;
};
const config = (env: Record<string, string>) => loadConfig({ env: testEnv({ KAFKA_STATE_DIR: join(dir, 'state'), ...env }) });
const SASL_SSL = { KAFKA_SECURITY_PROTOCOL: 'SASL_SSL', KAFKA_SASL_USERNAME: 'alice', KAFKA_SASL_PASSWORD: 'alice-secret', KAFKA_ADMIN_PASSWORD: 'admin-secret' };

describe('TLS options of the clients and the brokers (SASL_SSL)', () => {
  test("the project's clients trust KAFKA_SSL_CA_FILE and present KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE", () => {
    const options = kafkaClientOptions(config({ ...SASL_SSL, KAFKA_SSL_CA_FILE: pem('ca'), KAFKA_SSL_CERT_FILE: pem('cert'), KAFKA_SSL_KEY_FILE: pem('key') }));
    assert.equal(options.sasl?.username, 'alice');
    assert.equal(String(options.tls?.ca), '-----BEGIN ca-----\n');
    assert.equal(String(options.tls?.cert), '-----BEGIN cert-----\n');
    assert.equal(String(options.tls?.key), '-----BEGIN key-----\n');
  });

  test("by default the clients trust the CA that fink_kafka makes in the cluster's state folder, and name the key when it is not there", () => {
    assert.throws(() => kafkaClientOptions(config(SASL_SSL)), (err: Error) => err.message.includes(`KAFKA_SSL_CA_FILE: cannot read ${join(dir, 'state', 'tls', 'ca.pem')}: no such file`));
  });

  test('a client certificate without its key is refused, naming both keys', () => {
    assert.throws(() => kafkaClientOptions(config({ ...SASL_SSL, KAFKA_SSL_CA_FILE: pem('ca'), KAFKA_SSL_CERT_FILE: pem('cert') })), /KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE go together/);
  });

  test("stream2science's upstream connection trusts UPSTREAM_SSL_CA_FILE, or the system's CAs without it", () => {
    const upstream = { UPSTREAM_SERVERS: 'survey.example.org:9094', UPSTREAM_SECURITY_PROTOCOL: 'SASL_SSL', UPSTREAM_SASL_USERNAME: 'fink', UPSTREAM_SASL_PASSWORD: 'fink-secret' };
    assert.equal(String(upstreamClientOptions(config({ ...upstream, UPSTREAM_SSL_CA_FILE: pem('upstream-ca') })).tls?.ca), '-----BEGIN upstream-ca-----\n');
    assert.deepEqual(upstreamClientOptions(config(upstream)).tls, {});
    assert.throws(() => upstreamClientOptions(config({ ...upstream, UPSTREAM_SSL_CA_FILE: join(dir, 'absent.pem') })), /UPSTREAM_SSL_CA_FILE: cannot read .*absent\.pem: no such file/);
  });

  test("the operator's keystore needs its password and the CA file, each named", () => {
    assert.throws(() => clusterSettings(config({ ...SASL_SSL, KAFKA_SSL_KEYSTORE_FILE: pem('keystore') }), 'distribution'), /KAFKA_SSL_KEYSTORE_FILE needs KAFKA_SSL_KEYSTORE_PASSWORD/);
    const settings = clusterSettings(config({ ...SASL_SSL, KAFKA_SSL_KEYSTORE_FILE: pem('keystore'), KAFKA_SSL_KEYSTORE_PASSWORD: 'store-secret', KAFKA_SSL_CA_FILE: pem('operator-ca') }), 'distribution');
    assert.equal(clientCaFile(settings), join(dir, 'operator-ca'));
    assert.equal(clientCaFile(clusterSettings(config(SASL_SSL), 'distribution')), join(dir, 'state', 'tls', 'ca.pem'));
  });

  test('the client listener is SASL_SSL with the keystore; the controller listener stays SASL_PLAINTEXT on loopback', () => {
    const layout = nodeLayout({ servers: ['127.0.0.1:9092'], stateDir: dir, keys: { servers: 'DISTRIBUTION_SERVERS', stateDir: 'KAFKA_STATE_DIR' } });
    const tls = { keystore: '/s/broker.p12', keystorePassword: 'ks-secret', truststore: '/s/truststore.p12', truststoreType: 'PKCS12' as const, truststorePassword: 'ks-secret' };
    const props = serverProperties(layout, 0, [layout], { admin: 'admin', password: 'p', controllerSecret: 'c', tls }, 1048576);
    assert.match(props, /^listeners=SASL_SSL:\/\/127\.0\.0\.1:9092,CONTROLLER:\/\/127\.0\.0\.1:9093$/m);
    assert.match(props, /^listener\.security\.protocol\.map=CONTROLLER:SASL_PLAINTEXT,SASL_SSL:SASL_SSL$/m);
    assert.match(props, /^inter\.broker\.listener\.name=SASL_SSL$/m);
    assert.match(props, /^listener\.name\.sasl_ssl\.scram-sha-512\.sasl\.jaas\.config=/m);
    assert.match(props, /^ssl\.keystore\.location=\/s\/broker\.p12$/m);
    assert.match(props, /^ssl\.truststore\.type=PKCS12$/m);
  });

  test('the broker certificate names 127.0.0.1, localhost and the configured host (an address or a name)', () => {
    assert.equal(subjectAltNames('127.0.0.1'), 'ip:127.0.0.1,dns:localhost');
    assert.equal(subjectAltNames('kafka.example.org'), 'ip:127.0.0.1,dns:localhost,dns:kafka.example.org');
    assert.equal(subjectAltNames('10.0.0.7'), 'ip:127.0.0.1,dns:localhost,ip:10.0.0.7');
  });
});
