import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { describeTransaction } from '../../src/kafka/transaction-state.ts';
import { createTransactionalProducer } from '../../src/kafka/transactional-producer.ts';
import { runCli } from '../helpers/cli.ts';
import { distributionSetup, type DistributionSetup } from '../helpers/distribution.ts';
import { startTestCluster, type TestCluster } from '../helpers/kafka.ts';
import { consumeWithFinkClient, finkClientPython, pythonOr } from '../helpers/python.ts';
import { kafkaClientOptions } from '../../src/kafka/client-options.ts';

describe('the distribution in secured mode (SCRAM-SHA-512 and ACLs)', () => {
  let cluster: TestCluster;
  let service: DistributionSetup;
  const admin = (args: string[]) => {
    const run = runCli('fink_kafka', args, cluster.env);
    assert.equal(run.status, 0, run.stderr);
  };
  before(async () => {
    cluster = await startTestCluster({ secured: true });
    admin(['--authentication', '-a', '-u', 'alice', '-p', 'alice-secret']);
    admin(['--authentication', '-a', '-u', 'bob', '-p', 'bob-secret']);
    // The service runs as alice; its transactional id starts with her name, as the producer role allows.
    service = distributionSetup(cluster, { KAFKA_SASL_USERNAME: 'alice', KAFKA_SASL_PASSWORD: 'alice-secret', DISTRIBUTION_ID: 'alice-distribution', DISTRIBUTION_TOPICS: 'none' });
    assert.equal(runCli('fink', ['simulate', '--count', '30', '--profile', 'ztf-light', '--seed', '41', '--night', '20261101'], service.env).status, 0);
  });
  after(async () => cluster?.stop());

  test('a topic the service may not create is named, with what to do', () => {
    // A topic of its own, which no other test creates.
    const run = runCli('fink', ['start', 'distribution', '--until-caught-up'], { ...service.env, DISTRIBUTION_TEST_TOPIC: 'never_created' });
    assert.equal(run.status, 1);
    assert.match(run.stderr, /topic never_created does not exist and user alice may not create it: create it with 'fink_kafka --create-topic never_created'/);
    assert.doesNotMatch(run.stderr + run.stdout, /alice-secret/, 'no password in the output');
  });

  // One test, as the steps build on each other: the admin's topics and grants, alice's runs, her
  // question to the coordinator (which needs the id's history), bob's reading.
  test("with the topics created by the admin and producer rights granted, alice distributes exactly once and may ask the coordinator about her transactional id; bob reads with fink-client", async (t) => {
    const checkpoints = service.config.require('DISTRIBUTION_CHECKPOINT_TOPIC');
    admin(['--create-topic', 'distribution_test']);
    admin(['--create-topic', checkpoints, '--partitions', '1']);
    admin(['--authorization', '-a', '-u', 'alice', '-p', '-t', 'distribution_test']);
    admin(['--authorization', '-a', '-u', 'alice', '-p', '-t', checkpoints]);
    admin(['--authorization', '-a', '-u', 'alice', '-c', 'fink-reader', '-t', checkpoints]);
    const run = runCli('fink', ['start', 'distribution', '--until-caught-up'], service.env);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /distributed 30 alerts/);
    const again = runCli('fink', ['start', 'distribution', '--until-caught-up'], service.env);
    assert.match(again.stdout, /distributed 0 alerts/, 'alice reads her checkpoint back');

    // What the service does after a Kafka error, before it starts a new session: the producer
    // role must be enough for it.
    const producer = createTransactionalProducer(kafkaClientOptions(service.config), 'alice-distribution', 'secured-test');
    try {
      const state = await describeTransaction(producer, 'alice-distribution');
      assert.ok(state !== undefined, 'the coordinator knows alice-distribution');
      assert.match(state.state, /Commit|Empty/);
      assert.ok(state.producerEpoch >= 0);
    } finally {
      await producer.close();
    }

    const python = pythonOr(t, finkClientPython());
    if (python === undefined) return;
    admin(['--authorization', '-a', '-u', 'bob', '-c', 'fink-client-interop', '-t', 'distribution_test']);
    const consumed = consumeWithFinkClient<{ candid: string }>(python, cluster.bootstrap, 'distribution_test', 30, { credentials: ['bob', 'bob-secret'] });
    assert.equal(new Set(consumed.map((c) => c.candid)).size, 30);
  });
});
