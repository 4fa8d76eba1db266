import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.ts';
import { startTestCluster, type TestCluster } from '../helpers/kafka.ts';

describe('fink_kafka start --brokers 3', { timeout: 300_000 }, () => {
  let cluster: TestCluster;
  const kcat = (args: string[], input?: string) =>
    spawnSync('kcat', ['-b', cluster.bootstrap, ...args], { encoding: 'utf8', input, timeout: 60_000 });

  before(async () => {
    cluster = await startTestCluster({ brokers: 3 });
  });
  after(() => cluster?.stop());

  it('runs three brokers on their own ports and folders, and hosts a topic replicated three times', () => {
    assert.equal(cluster.bootstrap.split(',').length, 3);
    const status = runCli('fink_kafka', ['status'], cluster.env);
    assert.match(status.stdout, /3 of 3 node\(s\) up/);
    const created = runCli('fink_kafka', ['--create-topic', 'replicated', '--partitions', '3', '--replication-factor', '3'], cluster.env);
    assert.equal(created.status, 0, created.stderr);
    const described = runCli('fink_kafka', ['--describe-topic', 'replicated'], cluster.env);
    assert.equal((described.stdout.match(/replicas \d,\d,\d/g) ?? []).length, 3, described.stdout);
  });

  it('keeps serving the replicated topic with one broker killed', async (t) => {
    if (kcat(['-L']).error !== undefined) {
      t.skip('kcat is not installed (Debian package kcat); .ci/run installs it');
      return;
    }
    const before = kcat(['-P', '-t', 'replicated', '-K', ':', '-X', 'acks=all'], 'a:1\nb:2\nc:3\n');
    assert.equal(before.status, 0, before.stderr);
    await cluster.killBroker(1);
    const status = runCli('fink_kafka', ['status'], cluster.env);
    assert.match(status.stdout, /2 of 3 node\(s\) up/);
    const during = kcat(['-P', '-t', 'replicated', '-K', ':', '-X', 'acks=all'], 'd:4\ne:5\nf:6\n');
    assert.equal(during.status, 0, during.stderr);
    const read = kcat(['-C', '-t', 'replicated', '-e', '-f', '%k=%s\n', '-X', 'isolation.level=read_committed']);
    assert.equal(read.status, 0, read.stderr);
    assert.deepEqual(read.stdout.trim().split('\n').sort(), ['a=1', 'b=2', 'c=3', 'd=4', 'e=5', 'f=6']);
  });
});
