import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.ts';
import { startTestCluster, type TestCluster } from '../helpers/kafka.ts';
import { haveKcat, kcat as kcatOn, kcatReadCommitted } from '../helpers/readers.ts';

describe('fink_kafka start --brokers 3', { timeout: 300_000 }, () => {
  let cluster: TestCluster;
  const kcat = (args: string[], input?: string) => kcatOn(cluster.bootstrap, args, input);

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
    if (!haveKcat(t)) return;
    const created = runCli('fink_kafka', ['--create-topic', 'survivor', '--partitions', '3', '--replication-factor', '3'], cluster.env);
    assert.equal(created.status, 0, created.stderr);
    const before = kcat(['-P', '-t', 'survivor', '-K', ':', '-X', 'acks=all'], 'a:1\nb:2\nc:3\n');
    assert.equal(before.status, 0, before.stderr);
    await cluster.killBroker(1);
    const status = runCli('fink_kafka', ['status'], cluster.env);
    assert.match(status.stdout, /2 of 3 node\(s\) up/);
    const during = kcat(['-P', '-t', 'survivor', '-K', ':', '-X', 'acks=all'], 'd:4\ne:5\nf:6\n');
    assert.equal(during.status, 0, during.stderr);
    assert.deepEqual(kcatReadCommitted(cluster.bootstrap, 'survivor', '%k=%s').sort(), ['a=1', 'b=2', 'c=3', 'd=4', 'e=5', 'f=6']);
  });
});
