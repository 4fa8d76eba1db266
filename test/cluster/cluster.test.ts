import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { newClusterId } from '../../src/cluster/cluster.ts';
import { portIsFree } from '../../src/cluster/processes.ts';
import { runCli } from '../helpers/cli.ts';
import { freePortPair } from '../helpers/kafka.ts';
import { haveKcat, kcat, kcatReadCommitted } from '../helpers/readers.ts';
import { tempDir } from '../helpers/temp.ts';

// One managed cluster driven through the real `fink_kafka` command, as a user would: the steps of
// its life in order (first start, topics, stop, start again), each building on the one before.
describe('fink_kafka: the managed cluster', { timeout: 600_000 }, () => {
  // Its own state folder from the start, so that no step, nor the clean-up, ever reaches var/kafka.
  const env: Record<string, string> = { KAFKA_STATE_DIR: tempDir('kafka-cli'), KAFKA_HEAP_OPTS: '-Xms128m -Xmx512m' };

  before(async () => {
    env.DISTRIBUTION_SERVERS = `127.0.0.1:${await freePortPair()}`;
  });
  after(() => runCli('fink_kafka', ['stop'], env));

  it('says it is not running before the first start', () => {
    const r = runCli('fink_kafka', ['status'], env);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Kafka is not running/);
  });

  it('formats storage on first start, waits until it answers and prints the bootstrap address', () => {
    const r = runCli('fink_kafka', ['start'], env);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /formatting storage/);
    assert.match(r.stdout, new RegExp(`Kafka started \\(pid \\d+\\); bootstrap servers: ${env.DISTRIBUTION_SERVERS}`));
    assert.ok(existsSync(join(env.KAFKA_STATE_DIR as string, 'node-0', 'kafka.pid')));
  });

  it('says so when started again, exit 0', () => {
    const r = runCli('fink_kafka', ['start'], env);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /already running/);
    assert.match(runCli('fink_kafka', ['status'], env).stdout, /Kafka is running: pid \d+/);
  });

  it('creates a topic once, lists it, describes it, deletes it', () => {
    let r = runCli('fink_kafka', ['--create-topic', 'distribution_test', '--partitions', '4'], env);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /created topic distribution_test \(4 partitions, replication factor 1\)/);
    r = runCli('fink_kafka', ['--create-topic', 'distribution_test'], env);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /exists already/);
    r = runCli('fink_kafka', ['--list-topics'], env);
    assert.deepEqual(r.stdout.trim().split('\n'), ['distribution_test']);
    r = runCli('fink_kafka', ['--describe-topic', 'distribution_test'], env);
    assert.equal(r.status, 0, r.stderr);
    assert.equal((r.stdout.match(/partition \d+ {2}leader 1/g) ?? []).length, 4);
    r = runCli('fink_kafka', ['--delete-topic', 'distribution_test'], env);
    assert.equal(r.status, 0, r.stderr);
    r = runCli('fink_kafka', ['--describe-topic', 'distribution_test'], env);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /topic distribution_test does not exist/);
  });

  it('is read and written by an independent client (kcat)', (t) => {
    const created = runCli('fink_kafka', ['--create-topic', 'kcat_check', '--partitions', '1'], env);
    assert.equal(created.status, 0, created.stderr);
    if (!haveKcat(t)) return;
    const bootstrap = env.DISTRIBUTION_SERVERS as string;
    assert.match(kcat(bootstrap, ['-L']).stdout, /topic "kcat_check" with 1 partitions/);
    const produce = kcat(bootstrap, ['-P', '-t', 'kcat_check', '-K', ':'], 'k1:alert one\nk2:alert two\n');
    assert.equal(produce.status, 0, produce.stderr);
    assert.deepEqual(kcatReadCommitted(bootstrap, 'kcat_check', '%k=%s'), ['k1=alert one', 'k2=alert two']);
  });

  it('stops gracefully, leaving nothing listening, and stop is idempotent', async () => {
    let r = runCli('fink_kafka', ['stop'], env);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Kafka stopped \(pid \d+\)/);
    const port = Number((env.DISTRIBUTION_SERVERS as string).split(':')[1]);
    assert.ok(await portIsFree('127.0.0.1', port), `port ${port} is still taken after stop`);
    r = runCli('fink_kafka', ['stop'], env);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Kafka is not running/);
  });

  it('recognises a stale pid file and starts again on the formatted storage', () => {
    writeFileSync(join(env.KAFKA_STATE_DIR as string, 'node-0', 'kafka.pid'), '999999\n');
    const r = runCli('fink_kafka', ['start'], env);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /stale pid file/);
    assert.doesNotMatch(r.stdout, /formatting storage/);
    assert.match(runCli('fink_kafka', ['--list-topics'], env).stdout, /kcat_check/);
    assert.equal(runCli('fink_kafka', ['stop'], env).status, 0);
  });

  it('names the port when another program holds it, exit 1', async () => {
    const port = Number((env.DISTRIBUTION_SERVERS as string).split(':')[1]);
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
    try {
      const r = runCli('fink_kafka', ['start'], env);
      assert.equal(r.status, 1);
      assert.match(r.stderr, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is taken by another program`));
    } finally {
      squatter.close();
    }
  });
});

describe('fink_kafka: usage', () => {
  it('prints a usage text listing every command with --help', () => {
    const r = runCli('fink_kafka', ['--help'], {});
    assert.equal(r.status, 0);
    for (const command of ['install', 'start', 'stop', 'status', '--create-topic', '--delete-topic', '--list-topics', '--describe-topic']) {
      assert.ok(r.stdout.includes(command), `usage lacks ${command}`);
    }
  });

  it('rejects an unknown flag with one line and exit 2', () => {
    const r = runCli('fink_kafka', ['--bogus'], {});
    assert.equal(r.status, 2);
    assert.match(r.stderr, /Unknown option '--bogus'/);
  });

  it('rejects a bad value with exit 2', () => {
    const r = runCli('fink_kafka', ['--create-topic', 't', '--partitions', 'many'], {});
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--partitions expects a whole number/);
  });
});

describe('cluster ids', () => {
  it('are 22 characters of URL-safe base64, never starting with the option sign', () => {
    for (let i = 0; i < 2000; i++) {
      const id = newClusterId();
      assert.match(id, /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    }
  });
});
