import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fetchSchemaById, registerSchema } from '../../src/avro/schema-registry.ts';
import { loadConfig } from '../../src/config/config.ts';
import { portIsFree } from '../../src/cluster/processes.ts';
import { basicCredentials, brokerCheck, gateServer, type GateSpec } from '../../src/cluster/registry-gate.ts';
import { clusterSettings } from '../../src/cluster/settings.ts';
import { runCli, testEnv } from '../helpers/cli.ts';
import { freePortPair } from '../helpers/kafka.ts';
import { tempDir } from '../helpers/temp.ts';
import { waitFor } from '../helpers/wait.ts';

const ADMIN_PASSWORD = 'adm1n-Gate-Secret-42';
const SERVICE_PASSWORD = 'f1nk-Gate-Secret-7';
const READER_PASSWORD = 'r3ader-Gate-Secret-9';

const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
const SCHEMA = JSON.stringify({ type: 'record', name: 'alert', namespace: 'fink.test', fields: [{ name: 'objectId', type: 'string' }] });
const JSON_TYPE = { 'content-type': 'application/vnd.schemaregistry.v1+json' };

// The managed registry of a secured cluster: the gate on the public port asks the cluster's own
// SCRAM credentials (checked by its brokers) of writes, and of reads as DISTRIBUTION_REGISTRY_READS says.
describe('the schema registry of a secured cluster, behind its gate', { timeout: 900_000 }, () => {
  const env: Record<string, string> = {
    KAFKA_STATE_DIR: tempDir('kafka-registry-gate'),
    KAFKA_HEAP_OPTS: '-Xms128m -Xmx512m',
    KAFKA_SECURITY_PROTOCOL: 'SASL_PLAINTEXT',
    KAFKA_ADMIN_PASSWORD: ADMIN_PASSWORD,
    KAFKA_SASL_USERNAME: 'fink',
    KAFKA_SASL_PASSWORD: SERVICE_PASSWORD,
    DISTRIBUTION_REGISTRY_READS: 'authenticated',
  };
  const outputs: string[] = [];
  const cli = (args: string[], input?: string) => {
    const r = runCli('fink_kafka', args, env, input);
    outputs.push(r.stdout, r.stderr);
    return r;
  };
  let root: string;
  let ccompat: string;

  before(async () => {
    // Three free ports in a row, taken from one look: the broker's two, then the registry's.
    const port = await freePortPair(3);
    env.DISTRIBUTION_SERVERS = `127.0.0.1:${port}`;
    env.DISTRIBUTION_REGISTRY_PORT = String(port + 2);
    root = `http://127.0.0.1:${env.DISTRIBUTION_REGISTRY_PORT}`;
    ccompat = `${root}/apis/ccompat/v7`;
    let r = cli(['start']);
    assert.equal(r.status, 0, r.stderr);
    for (const [user, password] of [['fink', SERVICE_PASSWORD], ['reader', READER_PASSWORD]] as const) {
      r = cli(['--authentication', '-a', '-u', user, '--password-stdin'], `${password}\n`);
      assert.equal(r.status, 0, r.stderr);
    }
  });
  after(() => cli(['stop']));

  const gateSpec = (): GateSpec => JSON.parse(readFileSync(join(env.KAFKA_STATE_DIR!, 'registry', 'gate.json'), 'utf8')) as GateSpec;

  it('refuses, before starting anything, a registry of a secured cluster on an address other hosts reach (exit 2)', () => {
    const stateDir = tempDir('kafka-registry-wide');
    const r = runCli('fink_kafka', ['start', '--registry'], { ...env, KAFKA_STATE_DIR: stateDir, DISTRIBUTION_REGISTRY_HOST: '0.0.0.0' });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /DISTRIBUTION_REGISTRY_HOST=0\.0\.0\.0: in secured mode the schema registry's gate speaks plain HTTP/);
    assert.equal(existsSync(join(stateDir, 'node-0')), false);
  });

  it('start --registry puts the gate on the public port and Apicurio on a private loopback one', () => {
    const r = cli(['start', '--registry']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^Kafka's schema registry started \\(pid \\d+, \\d+\\) at ${root}; writes need the credentials of admin or fink, reads need those of a user of the cluster$`, 'm'));
    const spec = gateSpec();
    assert.equal(spec.port, Number(env.DISTRIBUTION_REGISTRY_PORT));
    assert.notEqual(spec.upstreamPort, spec.port);
    assert.deepEqual(spec.writers, ['admin', 'fink']);
  });

  it("the gate's process is not given fink_kafka's environment, which holds the passwords", () => {
    const gatePid = readFileSync(join(env.KAFKA_STATE_DIR!, 'registry', 'gate.pid'), 'utf8').trim().split(/\s+/)[0];
    const environ = readFileSync(`/proc/${gatePid}/environ`, 'utf8');
    assert.ok(!environ.includes('KAFKA_ADMIN_PASSWORD') && !environ.includes(ADMIN_PASSWORD) && !environ.includes(SERVICE_PASSWORD));
    assert.match(environ, /(^|\0)PATH=/);
  });

  it('refuses a write without credentials (401), and with a wrong password (401)', async () => {
    let response = await fetch(`${ccompat}/subjects/fink_test_ztf-value/versions`, { method: 'POST', headers: JSON_TYPE, body: JSON.stringify({ schema: SCHEMA }) });
    assert.equal(response.status, 401);
    assert.match(response.headers.get('www-authenticate') ?? '', /^Basic /);
    assert.match(((await response.json()) as { message: string }).message, /a write needs the credentials of a user of the cluster/);
    response = await fetch(`${ccompat}/subjects/fink_test_ztf-value/versions`, { method: 'POST', headers: { ...JSON_TYPE, ...basic('fink', 'not-the-password') }, body: JSON.stringify({ schema: SCHEMA }) });
    assert.equal(response.status, 401);
    assert.match(((await response.json()) as { message: string }).message, /the cluster refused the credentials of fink/);
    // Nothing was registered.
    const subjects = await fetch(`${ccompat}/subjects`, { headers: basic('admin', ADMIN_PASSWORD) });
    assert.deepEqual(await subjects.json(), []);
  });

  it("accepts a write with the distribution's credentials (and the super user's); a reader may not write (403)", async () => {
    const id = await registerSchema(`http://fink:${SERVICE_PASSWORD}@127.0.0.1:${env.DISTRIBUTION_REGISTRY_PORT}/apis/ccompat/v7`, 'fink_test_ztf-value', SCHEMA);
    assert.ok(id > 0);
    const config = { method: 'PUT', headers: { ...JSON_TYPE, ...basic('admin', ADMIN_PASSWORD) }, body: JSON.stringify({ compatibility: 'BACKWARD' }) };
    assert.equal((await fetch(`${ccompat}/config/fink_test_ztf-value`, config)).status, 200);
    const response = await fetch(`${ccompat}/subjects/other-value/versions`, { method: 'POST', headers: { ...JSON_TYPE, ...basic('reader', READER_PASSWORD) }, body: JSON.stringify({ schema: SCHEMA }) });
    assert.equal(response.status, 403);
    assert.match(((await response.json()) as { message: string }).message, /reader may read but not write/);
  });

  it('with DISTRIBUTION_REGISTRY_READS=authenticated, a read needs the credentials of a user of the cluster', async () => {
    const response = await fetch(`${ccompat}/subjects`);
    assert.equal(response.status, 401);
    assert.match(((await response.json()) as { message: string }).message, /a read needs the credentials/);
    const subjects = await fetch(`${ccompat}/subjects`, { headers: basic('reader', READER_PASSWORD) });
    assert.equal(subjects.status, 200);
    assert.deepEqual(await subjects.json(), ['fink_test_ztf-value']);
    const id = (await (await fetch(`${ccompat}/subjects/fink_test_ztf-value/versions/latest`, { headers: basic('reader', READER_PASSWORD) })).json()) as { id: number };
    assert.equal(await fetchSchemaById(`http://reader:${READER_PASSWORD}@127.0.0.1:${env.DISTRIBUTION_REGISTRY_PORT}/apis/ccompat/v7`, id.id), SCHEMA);
  });

  it('with DISTRIBUTION_REGISTRY_READS=open (the default), reads need nothing and writes still need credentials', async () => {
    const { DISTRIBUTION_REGISTRY_READS: _, ...unset } = env;
    assert.equal(clusterSettings(loadConfig({ env: testEnv(unset) }), 'distribution').registry?.gate?.reads, 'open');
    const settings = clusterSettings(loadConfig({ env: testEnv({ ...env, DISTRIBUTION_REGISTRY_READS: 'open' }) }), 'distribution');
    const gate = settings.registry!.gate!;
    assert.equal(gate.reads, 'open');
    // A second gate of these settings, in this process, in front of the same Apicurio.
    const spec: GateSpec = { ...gate, host: '127.0.0.1', port: 0, upstreamPort: gateSpec().upstreamPort };
    const server = gateServer(spec, brokerCheck(spec), () => {});
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/apis/ccompat/v7`;
    try {
      const subjects = await fetch(`${url}/subjects`);
      assert.equal(subjects.status, 200);
      assert.deepEqual(await subjects.json(), ['fink_test_ztf-value']);
      const write = await fetch(`${url}/subjects/open-value/versions`, { method: 'POST', headers: JSON_TYPE, body: JSON.stringify({ schema: SCHEMA }) });
      assert.equal(write.status, 401);
      const deletion = await fetch(`${url}/subjects/fink_test_ztf-value`, { method: 'DELETE' });
      assert.equal(deletion.status, 401);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('a gate that stopped is started again in front of the running Apicurio, whose schemas are kept', async () => {
    const gatePid = Number(readFileSync(join(env.KAFKA_STATE_DIR!, 'registry', 'gate.pid'), 'utf8').trim().split(/\s+/)[0]);
    const apicurio = Number(readFileSync(join(env.KAFKA_STATE_DIR!, 'registry', 'registry.pid'), 'utf8').trim().split(/\s+/)[0]);
    process.kill(gatePid, 'SIGTERM');
    await waitFor('the gate to stop', () => portIsFree('127.0.0.1', Number(env.DISTRIBUTION_REGISTRY_PORT)));
    let r = cli(['status']);
    assert.match(r.stdout, new RegExp(`^Kafka's schema registry is not serving: only pid ${apicurio} runs \\(Apicurio, without its gate\\)`, 'm'));
    r = cli(['start', '--registry']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^Kafka's schema registry started \\(pid ${apicurio}, \\d+\\)`, 'm'));
    // This process's pooled connections to the stopped gate were closed while spawnSync held its
    // event loop: the first request may meet one of them, as any client's after a restart.
    const subjects = await waitFor('a read through the new gate', () => fetch(`${ccompat}/subjects`, { headers: basic('reader', READER_PASSWORD) }).then((a) => a.json(), () => undefined));
    assert.deepEqual(subjects, ['fink_test_ztf-value']);
  });

  it('status shows the registry and its gate; stop stops both, their ports released', async () => {
    let r = cli(['status']);
    assert.match(r.stdout, new RegExp(`^Kafka's schema registry is running: pid \\d+, \\d+, ${root} \\(Confluent-compatible API under /apis/ccompat/v7\\); writes need`, 'm'));
    const upstream = gateSpec().upstreamPort;
    r = cli(['stop']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^Kafka's schema registry stopped \(pid \d+, \d+\)$/m);
    assert.ok(await portIsFree('127.0.0.1', Number(env.DISTRIBUTION_REGISTRY_PORT)));
    assert.ok(await portIsFree('127.0.0.1', upstream));
  });

  it('no password appears in the commands\' output or the gate\'s log', () => {
    const log = readFileSync(join(env.KAFKA_STATE_DIR!, 'registry', 'gate.log'), 'utf8');
    assert.match(log, /refused POST \/apis\/ccompat\/v7\/subjects\/fink_test_ztf-value\/versions: the cluster refused the credentials of fink/);
    for (const text of [...outputs, log, readFileSync(join(env.KAFKA_STATE_DIR!, 'registry', 'gate.json'), 'utf8')]) {
      for (const secret of [ADMIN_PASSWORD, SERVICE_PASSWORD, READER_PASSWORD, 'not-the-password']) assert.ok(!text.includes(secret), `a password in: ${text.slice(0, 200)}`);
    }
  });
});

// SASL_SSL: the gate checks the credentials over TLS, trusting the cluster's CA (KAFKA_SSL_CA_FILE).
describe('the schema registry of a SASL_SSL cluster, behind its gate', { timeout: 900_000 }, () => {
  const env: Record<string, string> = { KAFKA_STATE_DIR: tempDir('kafka-registry-tls'), KAFKA_HEAP_OPTS: '-Xms128m -Xmx512m', KAFKA_SECURITY_PROTOCOL: 'SASL_SSL', KAFKA_ADMIN_PASSWORD: ADMIN_PASSWORD };
  let ccompat: string;
  before(async () => {
    const port = await freePortPair(3);
    env.DISTRIBUTION_SERVERS = `127.0.0.1:${port}`;
    env.DISTRIBUTION_REGISTRY_PORT = String(port + 2);
    ccompat = `http://127.0.0.1:${port + 2}/apis/ccompat/v7`;
    const r = runCli('fink_kafka', ['start', '--registry'], env);
    assert.equal(r.status, 0, r.stderr);
  });
  after(() => runCli('fink_kafka', ['stop'], env));

  it("accepts the super user's write and refuses a wrong password, the brokers asked over TLS", async () => {
    const post = (headers: Record<string, string>) => fetch(`${ccompat}/subjects/fink_tls-value/versions`, { method: 'POST', headers: { ...JSON_TYPE, ...headers }, body: JSON.stringify({ schema: SCHEMA }) });
    assert.equal((await post(basic('admin', 'not-the-password'))).status, 401);
    const accepted = await post(basic('admin', ADMIN_PASSWORD));
    assert.equal(accepted.status, 200, await accepted.clone().text());
    assert.ok(((await accepted.json()) as { id: number }).id > 0);
  });
});

// The gate's answers when what is behind it is missing, and its reading of the header: real HTTP,
// and brokers and a registry that are simply not there (ports that nothing listens on).
describe('the registry gate, with nothing behind it', () => {
  it('reads the user and password of a basic Authorization header, a colon allowed in the password', () => {
    assert.deepEqual(basicCredentials(basic('fink', 'a:b').authorization), { username: 'fink', password: 'a:b' });
    assert.equal(basicCredentials('Bearer abc'), undefined);
    assert.equal(basicCredentials(`Basic ${Buffer.from('no-colon').toString('base64')}`), undefined);
    assert.equal(basicCredentials(undefined), undefined);
  });

  it('answers 502 when the registry behind it is gone, and 503 (not a refusal) when no broker can check the credentials', async () => {
    const closed = await freePortPair(2);
    const spec: GateSpec = { reads: 'open', writers: ['admin'], servers: [`127.0.0.1:${closed}`], host: '127.0.0.1', port: 0, upstreamPort: closed + 1 };
    const server = gateServer(spec, brokerCheck(spec), () => {});
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/apis/ccompat/v7`;
    try {
      assert.equal((await fetch(`${url}/subjects`)).status, 502);
      const write = await fetch(`${url}/subjects/x-value/versions`, { method: 'POST', headers: { ...JSON_TYPE, ...basic('admin', 'whatever') }, body: '{}' });
      assert.equal(write.status, 503);
      assert.match(((await write.json()) as { message: string }).message, /the cluster that checks the credentials did not answer/);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
