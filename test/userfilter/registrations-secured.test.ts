// `fink filter add|remove` on a secured cluster (SASL_PLAINTEXT, SCRAM-SHA-512 and ACLs): the owner
// is required, gets READ on the filter's topic and on groups prefixed `<owner>-`, reads the topic
// while a user without rights gets nothing, and remove takes the rights back; the distribution's
// own user (KAFKA_SASL_USERNAME) gets WRITE and DESCRIBE on the topic it fills, and loses them with remove;
// with a service user that is not a super user, add and remove run as it, with the rights README gives it.
import assert from 'node:assert/strict';
import { Producer } from '@platformatic/kafka';
import { after, before, describe, test } from 'node:test';
import { loadConfig, type Config } from '../../src/config/config.ts';
import { AclOperations, AclPermissionTypes, ResourcePatternTypes, ResourceTypes } from '@platformatic/kafka';
import { addScramUser, grant, listAcls, roleAcls } from '../../src/cluster/security.ts';
import { clusterSettings } from '../../src/cluster/settings.ts';
import { kafkaClientOptions, type KafkaConnection } from '../../src/kafka/client-options.ts';
import { classifyKafkaError } from '../../src/kafka/errors.ts';
import { readTopic } from '../../src/kafka/topic-reader.ts';
import { runCli, testEnv } from '../helpers/cli.ts';
import { startTestCluster, type TestCluster } from '../helpers/kafka.ts';

const TOPIC = 'fink_u_alice_mine_ztf';
/** Kafka refused for want of rights (not a broker away, not a missing topic). */
const unauthorized = (err: unknown) => classifyKafkaError(err) === 'unauthorized';

async function read(connection: KafkaConnection, topic: string): Promise<string[]> {
  const values: string[] = [];
  for await (const m of readTopic(connection, topic, { settleMs: 0 })) values.push(m.value?.toString() ?? '');
  return values;
}

describe('fink filter add and remove in secured mode', { timeout: 600_000 }, () => {
  let cluster: TestCluster;
  let config: Config;
  let as: (user: string) => KafkaConnection;
  before(async () => {
    cluster = await startTestCluster({ secured: true });
    config = loadConfig({ env: testEnv(cluster.env) });
    for (const user of ['alice', 'bob']) await addScramUser(clusterSettings(config, 'distribution'), user, `${user}-password-long-enough`);
    as = (user) => ({ ...kafkaClientOptions(config), sasl: { mechanism: 'SCRAM-SHA-512', username: user, password: `${user}-password-long-enough` } });
  });
  after(async () => cluster?.stop());

  const fink = (...args: string[]) => runCli('fink', ['filter', ...args], cluster.env);
  const aliceAcls = async () => (await listAcls(clusterSettings(config, 'distribution'))).filter((a) => a.startsWith('User:alice '));

  test('without --owner, add exits 2 with one line and registers nothing', () => {
    const run = fink('add', 'mine', '--survey', 'ztf', '--where', 'fid = 1');
    assert.equal(run.status, 2, run.stderr);
    assert.equal(run.stderr, 'fink: --owner USER is required in secured mode: the Kafka user who will read the topic\n');
    assert.equal(fink('list', '--json').stdout, '[]\n');
  });

  test('the owner reads the topic and uses groups prefixed <owner>-; a user without rights gets nothing', async () => {
    const run = fink('add', 'mine', '--survey', 'ztf', '--where', 'fid = 1', '--owner', 'alice');
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, `${TOPIC}\n`);
    assert.deepEqual(await aliceAcls(), [
      `User:alice ALLOW DESCRIBE on TOPIC ${TOPIC} (LITERAL)`,
      'User:alice ALLOW READ on GROUP alice- (PREFIXED)',
      `User:alice ALLOW READ on TOPIC ${TOPIC} (LITERAL)`,
    ].sort());
    const producer = new Producer({ clientId: 'fink-test', ...kafkaClientOptions(config), retries: 10, retryDelay: 500 });
    try {
      await producer.send({ messages: [{ topic: TOPIC, key: Buffer.from('k'), value: Buffer.from('an alert') }] });
    } finally {
      await producer.close();
    }
    assert.deepEqual(await read(as('alice'), TOPIC), ['an alert']);
    await assert.rejects(read(as('bob'), TOPIC), unauthorized);
  });

  test('remove revokes the owner\'s rights on the topic, and on the groups with the owner\'s last filter; the topic stays', async () => {
    assert.equal(fink('add', 'other', '--survey', 'lsst', '--where', 'snr > 5', '--owner', 'alice').status, 0);
    const run = fink('remove', 'mine', '--survey', 'ztf', '--owner', 'alice');
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(await aliceAcls(), [
      'User:alice ALLOW DESCRIBE on TOPIC fink_u_alice_other_lsst (LITERAL)',
      'User:alice ALLOW READ on GROUP alice- (PREFIXED)',
      'User:alice ALLOW READ on TOPIC fink_u_alice_other_lsst (LITERAL)',
    ].sort(), 'the groups stay for the other filter');
    await assert.rejects(read(as('alice'), TOPIC), unauthorized);
    assert.deepEqual(await read(kafkaClientOptions(config), TOPIC), ['an alert']);
    assert.equal(fink('remove', 'other', '--survey', 'lsst', '--owner', 'alice').status, 0);
    assert.deepEqual(await aliceAcls(), []);
  });

  test("add grants the distribution's user (KAFKA_SASL_USERNAME) WRITE and DESCRIBE on the topic; remove leaves them (a batch in flight may still write it)", async () => {
    const topic = 'fink_u_alice_served_ztf';
    const serviceAcls = async () => (await listAcls(clusterSettings(config, 'distribution'))).filter((a) => a.startsWith(`User:${cluster.env.KAFKA_SASL_USERNAME} `) && a.includes(` ${topic} `));
    assert.deepEqual(await serviceAcls(), []);
    const run = fink('add', 'served', '--survey', 'ztf', '--where', 'fid = 1', '--owner', 'alice');
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(await serviceAcls(), [
      `User:${cluster.env.KAFKA_SASL_USERNAME} ALLOW DESCRIBE on TOPIC ${topic} (LITERAL)`,
      `User:${cluster.env.KAFKA_SASL_USERNAME} ALLOW WRITE on TOPIC ${topic} (LITERAL)`,
    ]);
    const removed = fink('remove', 'served', '--survey', 'ztf', '--owner', 'alice');
    assert.equal(removed.status, 0, removed.stderr);
    assert.equal((await serviceAcls()).length, 2);
  });

  test('a distribution user that is not a super user: add and remove run as it (transactional ids <user>-...), it writes the topic once add returns, and still after remove (a batch in flight is never refused)', async () => {
    const topic = 'fink_u_alice_svc_ztf';
    const password = 'svc-password-long-enough';
    await addScramUser(clusterSettings(config, 'distribution'), 'svc', password);
    // What the operator grants the service's user once (README, user filters for operators).
    const createTopics = { resourceType: ResourceTypes.CLUSTER, resourceName: 'kafka-cluster', resourcePatternType: ResourcePatternTypes.LITERAL, operation: AclOperations.CREATE, principal: 'User:svc', host: '*', permissionType: AclPermissionTypes.ALLOW };
    await grant(clusterSettings(config, 'distribution'), [...roleAcls('svc', { producer: true }, '_fink_user_filters'), ...roleAcls('svc', { consumer: 'fink-' }, '_fink_user_filters'), createTopics]);
    const svc = { ...cluster.env, KAFKA_SASL_USERNAME: 'svc', KAFKA_SASL_PASSWORD: password };
    const write = async () => {
      const producer = new Producer({ clientId: 'fink-test', ...as('svc'), retries: 2, retryDelay: 200 });
      try {
        await producer.send({ messages: [{ topic, key: Buffer.from('k'), value: Buffer.from('from svc') }] });
      } finally {
        await producer.close();
      }
    };
    const added = runCli('fink', ['filter', 'add', 'svc', '--survey', 'ztf', '--where', 'fid = 1', '--owner', 'alice'], svc);
    assert.equal(added.status, 0, added.stderr);
    await write();
    assert.deepEqual(await read(as('alice'), topic), ['from svc']);
    const removed = runCli('fink', ['filter', 'remove', 'svc', '--survey', 'ztf', '--owner', 'alice'], svc);
    assert.equal(removed.status, 0, removed.stderr);
    await write();
    await assert.rejects(read(as('alice'), topic), unauthorized, 'the owner may not read the topic once the filter is removed');
  });
});
