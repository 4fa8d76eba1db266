import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Consumer, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import { runCli } from '../helpers/cli.ts';
import { freePortPair } from '../helpers/kafka.ts';
import { tempDir } from '../helpers/temp.ts';

const ADMIN_PASSWORD = 'adm1n-Secret-42';
const PRODUCER_PASSWORD = 'pr0ducer-Secret-7';
const CONSUMER_PASSWORD = 'c0nsumer-Secret-9';

describe('fink_kafka in secured mode: SCRAM-SHA-512 and ACLs', { timeout: 300_000 }, () => {
  // Its own state folder from the start, so that the clean-up never reaches var/kafka.
  const env: Record<string, string> = { KAFKA_STATE_DIR: tempDir('kafka-secured'), KAFKA_HEAP_OPTS: '-Xms128m -Xmx512m', KAFKA_SECURITY_PROTOCOL: 'SASL_PLAINTEXT', KAFKA_ADMIN_PASSWORD: ADMIN_PASSWORD };
  let bootstrap: string;
  const outputs: string[] = [];
  const cli = (args: string[]) => {
    const r = runCli('fink_kafka', args, env);
    outputs.push(r.stdout, r.stderr);
    return r;
  };
  const sasl = (username: string, password: string) => ({ mechanism: 'SCRAM-SHA-512' as const, username, password });

  async function produce(options: { sasl?: ReturnType<typeof sasl> }, topic: string): Promise<string> {
    const producer = new Producer({ clientId: 'secured-test', bootstrapBrokers: [bootstrap], serializers: stringSerializers, retries: 0, timeout: 5000, ...options });
    try {
      await producer.send({ messages: [{ topic, key: 'k', value: 'v' }] });
      return 'ok';
    } catch (err) {
      return `refused: ${(err as Error).message}`;
    } finally {
      await producer.close().catch(() => {});
    }
  }

  // Retried for about a minute: the first group of a new cluster waits for its offsets topic.
  async function read(user: string, password: string, topic: string, groupId: string): Promise<string> {
    const consumer = new Consumer({ clientId: 'secured-test', groupId, bootstrapBrokers: [bootstrap], sasl: sasl(user, password), deserializers: stringDeserializers, retries: 120, retryDelay: 500, timeout: 5000 });
    try {
      const stream = await consumer.consume({ topics: [topic], mode: 'earliest' });
      for await (const message of stream) {
        await stream.close();
        return `read ${message.value}`;
      }
      return 'nothing';
    } catch (err) {
      return `refused: ${(err as Error).message}`;
    } finally {
      await consumer.close(true).catch(() => {});
    }
  }

  before(async () => {
    const port = await freePortPair();
    bootstrap = `127.0.0.1:${port}`;
    env.DISTRIBUTION_SERVERS = bootstrap;
    const started = cli(['start']);
    assert.equal(started.status, 0, started.stderr);
    for (const args of [
      ['--create-topic', 'alerts', '--partitions', '1'],
      ['--create-topic', 'private', '--partitions', '1'],
      ['--authentication', '-a', '-u', 'producer', '-p', PRODUCER_PASSWORD],
      ['--authentication', '-a', '-u', 'reader', '-p', CONSUMER_PASSWORD],
      ['--authorization', '-a', '-u', 'producer', '-p', '-t', 'alerts'],
      ['--authorization', '-a', '-u', 'reader', '-c', 'readers', '-t', 'alerts'],
    ]) {
      const r = cli(args);
      assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    }
  });
  after(() => cli(['stop']));

  it('refuses to start without an admin password, saying which key to set', () => {
    const start = runCli('fink_kafka', ['start'], { ...env, KAFKA_ADMIN_PASSWORD: '', KAFKA_STATE_DIR: tempDir('kafka-nopw') });
    assert.equal(start.status, 1);
    assert.match(start.stderr, /needs KAFKA_ADMIN_PASSWORD/);
  });

  it('lets a granted producer write', async () => {
    assert.equal(await produce({ sasl: sasl('producer', PRODUCER_PASSWORD) }, 'alerts'), 'ok');
  });

  it('refuses an anonymous client', async () => {
    assert.match(await produce({}, 'alerts'), /^refused/);
  });

  it('refuses a wrong password', async () => {
    assert.match(await produce({ sasl: sasl('producer', 'not-the-password') }, 'alerts'), /^refused/);
  });

  it('refuses to let a consumer-only user produce', async () => {
    assert.match(await produce({ sasl: sasl('reader', CONSUMER_PASSWORD) }, 'alerts'), /^refused/);
  });

  it('lets the consumer read its topic, and not a topic it was not granted', async () => {
    assert.equal(await read('reader', CONSUMER_PASSWORD, 'alerts', 'readers-1'), 'read v');
    assert.match(await read('reader', CONSUMER_PASSWORD, 'private', 'readers-2'), /^refused: .*Topic authorization failed/);
  });

  it('lists the ACLs, and revokes them', () => {
    const listed = cli(['--list-acl']);
    assert.match(listed.stdout, /User:reader ALLOW READ on TOPIC alerts/);
    assert.match(listed.stdout, /User:reader ALLOW READ on GROUP readers \(PREFIXED\)/);
    assert.match(listed.stdout, /User:producer ALLOW WRITE on TOPIC alerts/);
    assert.equal(cli(['--authorization', '-d', '-u', 'reader', '-c', 'readers', '-t', 'alerts']).status, 0);
    assert.doesNotMatch(cli(['--list-acl']).stdout, /User:reader/);
    // Granted again, as the other tests found it.
    assert.equal(cli(['--authorization', '-a', '-u', 'reader', '-c', 'readers', '-t', 'alerts']).status, 0);
  });

  it('never prints or logs a password, nor shows it on a command line', () => {
    const state = env.KAFKA_STATE_DIR as string;
    assert.ok(!existsSync(join(state, 'node-0', 'format.args')), 'the format arguments file is left behind');
    const pid = readFileSync(join(state, 'node-0', 'kafka.pid'), 'utf8').split(/\s+/)[0];
    assert.ok(!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(ADMIN_PASSWORD), 'the broker command line holds the password');
    const logs = readdirSync(join(state, 'node-0')).filter((f) => f.startsWith('kafka.')).map((f) => readFileSync(join(state, 'node-0', f), 'utf8'));
    for (const secret of [ADMIN_PASSWORD, PRODUCER_PASSWORD, CONSUMER_PASSWORD]) {
      for (const text of [...outputs, ...logs]) assert.ok(!text.includes(secret), 'a password appears in output or logs');
    }
  });
});
