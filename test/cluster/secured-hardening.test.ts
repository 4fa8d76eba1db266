// What an attacker without credentials, or a user with the wrong ones, can do to a secured
// managed cluster: nothing on any port, nothing through another user's transactional id.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { Admin, AclOperations, AclPermissionTypes, Connection, ResourcePatternTypes, ResourceTypes, alterUserScramCredentialsV0, createAclsV3 } from '@platformatic/kafka';
import { loadConfig } from '../../src/config/config.ts';
import { createTransactionalProducer } from '../../src/kafka/transactional-producer.ts';
import { kafkaClientOptions } from '../../src/kafka/client-options.ts';
import { runCli, testEnv } from '../helpers/cli.ts';
import { freePortPair } from '../helpers/kafka.ts';
import { listeningSockets } from '../helpers/sockets.ts';
import { tempDir } from '../helpers/temp.ts';

const ADMIN_PASSWORD = 'adm1n-Hardening-5';
// Not 127.0.0.1, yet loopback: shows where each listener binds without exposing anything.
const CLIENT_HOST = '127.0.0.2';

/** Sends one admin request without credentials; 'accepted' if the broker carried it out. */
async function anonymous(port: number, host: string, request: (c: Connection) => Promise<{ results: Array<{ errorCode: number }> }>): Promise<string> {
  const connection = new Connection('anonymous-test', { connectTimeout: 10_000, requestTimeout: 20_000 });
  try {
    await connection.connect(host, port);
    const response = await request(connection);
    const codes = response.results.map((r) => r.errorCode);
    return codes.every((c) => c === 0) ? 'accepted' : `refused: error codes ${codes.join(',')}`;
  } catch (err) {
    const e = err as Error & { code?: string; cause?: { code?: string } };
    // A port nobody listens on would make this test pass for the wrong reason.
    assert.notEqual(e.cause?.code ?? e.code, 'ECONNREFUSED', `nothing listens on ${host}:${port}`);
    return `refused: ${e.message}`;
  } finally {
    await connection.close().catch(() => {});
  }
}

const eveAcl = {
  resourceType: ResourceTypes.TOPIC, resourceName: '*', resourcePatternType: ResourcePatternTypes.LITERAL,
  principal: 'User:eve', host: '*', operation: AclOperations.ALL, permissionType: AclPermissionTypes.ALLOW,
};

describe('a secured managed cluster: no way in without credentials', { timeout: 400_000 }, () => {
  let env: Record<string, string>;
  let port: number;
  const cli = (args: string[], extra: Record<string, string> = {}, input?: string) => runCli('fink_kafka', args, { ...env, ...extra }, input);

  before(async () => {
    port = await freePortPair();
    env = {
      DISTRIBUTION_SERVERS: `${CLIENT_HOST}:${port}`,
      KAFKA_STATE_DIR: join(tempDir('kafka-hardening'), 'state'),
      KAFKA_HEAP_OPTS: '-Xms128m -Xmx512m',
      KAFKA_SECURITY_PROTOCOL: 'SASL_PLAINTEXT',
      KAFKA_ADMIN_PASSWORD: ADMIN_PASSWORD,
    };
    const started = cli(['start']);
    assert.equal(started.status, 0, started.stderr);
  });
  after(() => cli(['stop']));

  it('binds the controller listener to 127.0.0.1 and only the client listener to the configured host', () => {
    const sockets = listeningSockets();
    assert.deepEqual(sockets.filter((s) => s.port === port).map((s) => s.host), [CLIENT_HOST]);
    assert.deepEqual(sockets.filter((s) => s.port === port + 1).map((s) => s.host), ['127.0.0.1']);
  });

  it('refuses anonymous admin requests (create an ACL, set a SCRAM credential) on every port', async () => {
    const upsert = { name: 'eve', mechanism: 2, iterations: 4096, salt: Buffer.alloc(32, 1), saltedPassword: Buffer.alloc(64, 2) };
    // Every port the node listens on, wherever it binds it (a wildcard is reached on loopback).
    const ports = listeningSockets().filter((s) => s.port === port || s.port === port + 1).map((s) => [s.host === '0.0.0.0' || s.host === '::' ? '127.0.0.1' : s.host, s.port] as const);
    assert.equal(ports.length, 2, JSON.stringify(ports));
    for (const [host, p] of ports) {
      assert.match(await anonymous(p, host, (c) => createAclsV3.api.async(c, [eveAcl])), /^refused/, `CreateAcls on ${host}:${p}`);
      assert.match(await anonymous(p, host, (c) => alterUserScramCredentialsV0.api.async(c, [], [upsert])), /^refused/, `AlterUserScramCredentials on ${host}:${p}`);
    }
    // Kafka's own tool, as an intruder would use it, against the controller.
    const controllerHost = ports.find(([, p]) => p === port + 1)?.[0] as string;
    const config = join(tempDir('aclcommand'), 'client.properties');
    writeFileSync(config, 'default.api.timeout.ms=15000\nrequest.timeout.ms=5000\n');
    const libs = loadConfig({ env: testEnv(env) }).require('KAFKA_CACHE_DIR');
    const tool = spawnSync('java', ['-cp', join(libs, 'libs', '*'), 'org.apache.kafka.tools.AclCommand', '--bootstrap-controller', `${controllerHost}:${port + 1}`, '--command-config', config,
      '--add', '--allow-principal', 'User:eve', '--operation', 'All', '--topic', '*'], { encoding: 'utf8', timeout: 120_000 });
    assert.notEqual(tool.status, 0, `AclCommand succeeded:\n${tool.stdout}`);
    assert.doesNotMatch(cli(['--list-acl']).stdout, /User:eve/);
  });

  it('keeps the state (secrets, SCRAM metadata) readable by its owner only', () => {
    const state = env.KAFKA_STATE_DIR as string;
    const mode = (path: string) => statSync(path).mode & 0o777;
    for (const dir of [state, join(state, 'node-0'), join(state, 'node-0', 'data')]) assert.equal(mode(dir).toString(8), '700', dir);
    const metadata = join(state, 'node-0', 'data', '__cluster_metadata-0');
    assert.equal(mode(metadata) & 0o077, 0, metadata);
    assert.equal(mode(join(state, 'node-0', 'server.properties')).toString(8), '600');
    for (const f of readdirSync(state)) assert.equal(mode(join(state, f)) & 0o077, 0, `${f} is readable by others`);
  });

  it("refuses a user the transactional ids of another user whose name starts with hers", async () => {
    const pw = { fink: 'fink-Secret-1', fink2: 'fink2-Secret-2' };
    assert.equal(cli(['--create-topic', 'tx_topic', '--partitions', '1']).status, 0);
    for (const [user, password] of Object.entries(pw)) {
      const add = cli(['--authentication', '-a', '-u', user, '-p', password]);
      assert.equal(add.status, 0, add.stderr);
      const grant = cli(['--authorization', '-a', '-u', user, '-p', '-t', 'tx_topic']);
      assert.equal(grant.status, 0, grant.stderr);
    }
    const asFink = loadConfig({ env: testEnv({ ...env, KAFKA_SASL_USERNAME: 'fink', KAFKA_SASL_PASSWORD: pw.fink }) });
    const begin = async (id: string) => {
      const producer = createTransactionalProducer(kafkaClientOptions(asFink), id, 'hardening-test');
      try {
        const tx = await producer.beginTransaction();
        await tx.send({ messages: [{ topic: 'tx_topic', partition: 0, value: Buffer.from('v') }] });
        await tx.abort();
        return 'ok';
      } catch (err) {
        return `refused: ${inspect(err, { depth: 4 })}`;
      } finally {
        await producer.close().catch(() => {});
      }
    };
    // The first transactional request creates the transaction state topic: until its coordinator
    // is ready, the answer is NOT_COORDINATOR (or COORDINATOR_LOAD_IN_PROGRESS).
    const deadline = Date.now() + 120_000;
    let own = await begin('fink-distribution');
    while (/NOT_COORDINATOR|COORDINATOR_LOAD_IN_PROGRESS|COORDINATOR_NOT_AVAILABLE/.test(own) && Date.now() < deadline) own = await begin('fink-distribution');
    assert.equal(own, 'ok', 'her own id');
    assert.match(await begin('fink2-distribution'), /^refused.*(uthoriz|53)/s, "fink2's id");
  });

  describe('fink_kafka --authentication takes the password without showing it on the command line', () => {
    const canLogIn = async (user: string, password: string) => {
      const admin = new Admin({ clientId: 'hardening-test', bootstrapBrokers: [`${CLIENT_HOST}:${port}`], sasl: { mechanism: 'SCRAM-SHA-512', username: user, password }, retries: 0, timeout: 10_000 });
      try {
        await admin.metadata({ topics: [] });
        return true;
      } catch {
        return false;
      } finally {
        await admin.close().catch(() => {});
      }
    };
    const added = async (user: string, password: string, run: ReturnType<typeof cli>) => {
      assert.equal(run.status, 0, run.stderr);
      assert.doesNotMatch(run.stderr, /-p shows/, 'no warning');
      assert.ok(await canLogIn(user, password), `${user} logs in with the password given`);
      assert.ok(!(await canLogIn(user, `${password}x`)), `${user} does not log in with another`);
    };

    it('from standard input (--password-stdin)', async () => {
      await added('viastdin', 'Stdin-Secret-1', cli(['--authentication', '-a', '-u', 'viastdin', '--password-stdin'], {}, 'Stdin-Secret-1\n'));
    });

    it('from a file (--password-file F)', async () => {
      const file = join(tempDir('pw'), 'pw');
      writeFileSync(file, 'File-Secret-2\n', { mode: 0o600 });
      await added('viafile', 'File-Secret-2', cli(['--authentication', '-a', '-u', 'viafile', '--password-file', file]));
    });

    it('from the environment (FINK_KAFKA_USER_PASSWORD)', async () => {
      await added('viaenv', 'Env-Secret-3', cli(['--authentication', '-a', '-u', 'viaenv'], { FINK_KAFKA_USER_PASSWORD: 'Env-Secret-3' }));
    });

    it('still from -p, with a warning on stderr', async () => {
      const run = cli(['--authentication', '-a', '-u', 'viaflag', '-p', 'Flag-Secret-4']);
      assert.equal(run.status, 0, run.stderr);
      assert.match(run.stderr, /warning: -p shows the password/);
      assert.ok(await canLogIn('viaflag', 'Flag-Secret-4'));
    });

    it('refuses two sources at once, or none, and an empty password', () => {
      assert.equal(cli(['--authentication', '-a', '-u', 'x', '-p', 'A-1', '--password-stdin'], {}, 'B-2\n').status, 2);
      assert.match(cli(['--authentication', '-a', '-u', 'x'], { FINK_KAFKA_USER_PASSWORD: '' }).stderr, /--password-stdin/);
      assert.equal(cli(['--authentication', '-a', '-u', 'x', '--password-stdin'], {}, '\n').status, 2);
    });
  });

  it('a start that fails (the admin password changed) stops what it began, and says why', async () => {
    assert.equal(cli(['stop']).status, 0);
    const failed = cli(['start'], { KAFKA_ADMIN_PASSWORD: 'not-the-0ne' });
    assert.equal(failed.status, 1, failed.stdout);
    assert.match(failed.stderr, /KAFKA_ADMIN_PASSWORD/);
    assert.doesNotMatch(failed.stderr, /not-the-0ne/);
    const ours = (pid: string) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(env.KAFKA_STATE_DIR as string);
      } catch {
        return false;
      }
    };
    assert.deepEqual(readdirSync('/proc').filter((p) => /^\d+$/.test(p) && ours(p)), [], 'a broker of this state folder still runs');
    assert.match(cli(['status']).stdout, /not running/);
    const again = cli(['start']);
    assert.equal(again.status, 0, again.stderr);
  });
});
