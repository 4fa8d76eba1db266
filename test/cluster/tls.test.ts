import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connect, rootCertificates } from 'node:tls';
import { loadConfig } from '../../src/config/config.ts';
import { kafkaClientOptions, upstreamClientOptions, withAdmin, type KafkaConnection } from '../../src/kafka/client-options.ts';
import { runCli, testEnv } from '../helpers/cli.ts';
import { freePortPair, startTestCluster, type TestCluster } from '../helpers/kafka.ts';
import { tempDir } from '../helpers/temp.ts';

/** The brokers that `connection` sees, or why it sees none (one try, a few seconds). */
async function brokersSeen(connection: KafkaConnection): Promise<string> {
  try {
    const meta = await withAdmin(connection, (admin) => admin.metadata({ topics: [] }), { retries: 0, timeout: 5000 });
    return `brokers ${meta.brokers.size}`;
  } catch (err) {
    return `refused: ${(err as Error).message}`;
  }
}

/**
 * The brokers that `connection` sees once it gets an answer, tried again for up to two minutes (a
 * handshake on a loaded machine can outlast one try); the last refusal if it never does.
 */
async function brokersSeenInTime(connection: KafkaConnection): Promise<string> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const seen = await brokersSeen(connection);
    if (seen.startsWith('brokers') || Date.now() >= deadline) return seen;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** The certificate that the broker at `bootstrap` presents, checked against `ca`. */
function brokerCertificate(bootstrap: string, ca: Buffer): Promise<X509Certificate> {
  const [host, port] = bootstrap.split(':') as [string, string];
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port: Number(port), ca }, () => {
      const raw = socket.getPeerCertificate().raw;
      socket.destroy();
      resolve(new X509Certificate(raw));
    });
    socket.once('error', reject);
  });
}

const digests = (dir: string) => Object.fromEntries(readdirSync(dir).sort().map((f) => [f, createHash('sha256').update(readFileSync(join(dir, f))).digest('hex')]));

describe('fink_kafka in secured mode over TLS (SASL_SSL)', { timeout: 300_000 }, () => {
  let cluster: TestCluster;
  let tlsDir: string;
  const config = () => loadConfig({ env: testEnv(cluster.env) });
  before(async () => {
    cluster = await startTestCluster({ tls: true });
    tlsDir = join(cluster.stateDir, 'tls');
  });
  after(async () => cluster?.stop());

  test("the project's client, trusting the CA file, gets the cluster's metadata as the super user", async () => {
    assert.equal(await brokersSeenInTime(kafkaClientOptions(config(), 'admin')), 'brokers 1');
  });

  test('a plaintext connection to the client port gets no metadata, with or without SASL', async () => {
    const { bootstrapBrokers, sasl } = kafkaClientOptions(config(), 'admin');
    assert.match(await brokersSeen({ bootstrapBrokers }), /^refused/);
    assert.match(await brokersSeen({ bootstrapBrokers, ...(sasl === undefined ? {} : { sasl }) }), /^refused/);
  });

  test('a client that does not trust the CA is refused at the handshake', async () => {
    const { bootstrapBrokers, sasl } = kafkaClientOptions(config(), 'admin');
    assert.match(await brokersSeen({ bootstrapBrokers, ...(sasl === undefined ? {} : { sasl }), tls: { ca: [] } }), /^refused/);
  });

  test('the broker certificate is signed by the CA and names 127.0.0.1 and localhost', async () => {
    const ca = readFileSync(cluster.caFile as string);
    const caCert = new X509Certificate(ca);
    assert.equal(caCert.ca, true);
    const broker = await brokerCertificate(cluster.bootstrap, ca);
    assert.ok(broker.verify(caCert.publicKey), 'signed by the CA');
    assert.match(broker.subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
    assert.match(broker.subjectAltName ?? '', /DNS:localhost/);
  });

  test('fink_kafka start and status print the CA file for the clients', () => {
    for (const args of [['start'], ['status', '--cluster', 'distribution']]) {
      const run = runCli('fink_kafka', args, cluster.env);
      assert.equal(run.status, 0, run.stderr);
      assert.ok(run.stdout.includes(`certificate authority in ${cluster.caFile}`), `${args[0]}: ${run.stdout}`);
    }
    assert.match(readFileSync(cluster.caFile as string, 'utf8'), /^-----BEGIN CERTIFICATE-----\n/);
  });

  test('the keystores, truststore and their password are readable by their owner only', () => {
    assert.equal(statSync(tlsDir).mode & 0o777, 0o700);
    const files = readdirSync(tlsDir);
    for (const f of ['ca.p12', 'broker.p12', 'truststore.p12', 'store.password']) assert.ok(files.includes(f), `${f} in ${files.join(', ')}`);
    for (const f of files) assert.equal(statSync(join(tlsDir, f)).mode & 0o077, 0, `${f} is private`);
    const props = readFileSync(join(cluster.stateDir, 'node-0', 'server.properties'), 'utf8');
    assert.match(props, /^listeners=SASL_SSL:\/\/127\.0\.0\.1:\d+,CONTROLLER:/m);
  });

  test('fink_kafka says in one line what to check when the CA file did not sign the broker', () => {
    const otherCa = join(tempDir('tls-other-ca'), 'other.pem');
    writeFileSync(otherCa, rootCertificates[0] as string);
    const untrusted = runCli('fink_kafka', ['--list-topics'], { ...cluster.env, KAFKA_SSL_CA_FILE: otherCa });
    assert.equal(untrusted.status, 1);
    assert.match(untrusted.stderr, /^fink_kafka: Kafka does not answer at .*the broker's TLS certificate is not trusted \([A-Z_]+\): KAFKA_SSL_CA_FILE must be/);
    assert.equal(untrusted.stderr.trim().split('\n').length, 1, untrusted.stderr);
  });

  test("stream2science's upstream connection over SASL_SSL, trusting UPSTREAM_SSL_CA_FILE, reaches the cluster", async () => {
    const upstream = loadConfig({ env: testEnv({ UPSTREAM_SERVERS: cluster.bootstrap, UPSTREAM_SECURITY_PROTOCOL: 'SASL_SSL', UPSTREAM_SASL_USERNAME: cluster.env.KAFKA_ADMIN_USERNAME as string, UPSTREAM_SASL_PASSWORD: cluster.env.KAFKA_ADMIN_PASSWORD as string, UPSTREAM_SSL_CA_FILE: cluster.caFile as string }) });
    assert.equal(await brokersSeenInTime(upstreamClientOptions(upstream)), 'brokers 1');
  });

  test("a cluster given the operator's keystore and CA file serves TLS with them, makes none of its own, and prints the operator's CA", async () => {
    // The operator's files: here a copy of the first cluster's, kept elsewhere.
    const operator = tempDir('tls-operator');
    for (const f of ['broker.p12', 'ca.pem']) copyFileSync(join(tlsDir, f), join(operator, f));
    const env = {
      ...cluster.env,
      DISTRIBUTION_SERVERS: `127.0.0.1:${await freePortPair()}`,
      KAFKA_STATE_DIR: tempDir('kafka-operator-tls'),
      KAFKA_SSL_KEYSTORE_FILE: join(operator, 'broker.p12'),
      KAFKA_SSL_KEYSTORE_PASSWORD: readFileSync(join(tlsDir, 'store.password'), 'utf8').trim(),
      KAFKA_SSL_CA_FILE: join(operator, 'ca.pem'),
    };
    try {
      const start = runCli('fink_kafka', ['start'], env);
      assert.equal(start.status, 0, start.stderr);
      assert.ok(start.stdout.includes(`certificate authority in ${env.KAFKA_SSL_CA_FILE}`), start.stdout);
      assert.equal(existsSync(join(env.KAFKA_STATE_DIR, 'tls')), false, 'no CA of its own');
      assert.equal(await brokersSeenInTime(kafkaClientOptions(loadConfig({ env: testEnv(env) }), 'admin')), 'brokers 1');
      assert.ok(!(start.stdout + start.stderr).includes(env.KAFKA_SSL_KEYSTORE_PASSWORD), 'the keystore password is not shown');
    } finally {
      runCli('fink_kafka', ['stop'], env);
    }
  });

  test('the CA and keystores are made once: a restart reuses them, and clients keep the same CA file', async () => {
    const before = digests(tlsDir);
    await cluster.restart();
    assert.deepEqual(digests(tlsDir), before);
    assert.equal(await brokersSeenInTime(kafkaClientOptions(config(), 'admin')), 'brokers 1');
  });
});
