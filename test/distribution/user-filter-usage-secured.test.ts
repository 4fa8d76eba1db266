// The usage topic of user filters (USER_FILTER_USAGE_TOPIC) on a secured cluster (SCRAM-SHA-512
// and ACLs): a service user without rights on it stops with one line naming the topic and the
// grants, and `fink filter list` by a user who may not read it lists the filters without figures;
// with the producer and reader rights the README gives, the service fills the user topic and
// `fink filter list` shows what it sent.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadConfig, type Config } from '../../src/config/config.ts';
import { runCli, testEnv } from '../helpers/cli.ts';
import { distributionSetup, readAll, type DistributionSetup } from '../helpers/distribution.ts';
import { startTestCluster, type TestCluster } from '../helpers/kafka.ts';

const USAGE = '_fink_user_filter_usage';
const TOPIC = 'fink_u_bob_mine_ztf';

describe('the user filter usage topic in secured mode', { timeout: 600_000 }, () => {
  let cluster: TestCluster;
  let service: DistributionSetup;
  /** The super user's configuration, to read the topics back. */
  let superUser: Config;
  const admin = (command: 'fink' | 'fink_kafka', args: string[]) => {
    const run = runCli(command, args, cluster.env);
    assert.equal(run.status, 0, run.stderr);
    return run.stdout;
  };
  before(async () => {
    cluster = await startTestCluster({ secured: true });
    superUser = loadConfig({ env: testEnv(cluster.env) });
    admin('fink_kafka', ['--authentication', '-a', '-u', 'alice', '-p', 'alice-secret']);
    admin('fink_kafka', ['--authentication', '-a', '-u', 'bob', '-p', 'bob-secret']);
    // The service runs as alice, with the rights the README lists for the community topics and the user filters.
    service = distributionSetup(cluster, { KAFKA_SASL_USERNAME: 'alice', KAFKA_SASL_PASSWORD: 'alice-secret', DISTRIBUTION_ID: 'alice-distribution', DISTRIBUTION_TOPICS: 'none' });
    const checkpoints = service.config.require('DISTRIBUTION_CHECKPOINT_TOPIC');
    const registrations = service.config.require('USER_FILTERS_TOPIC');
    admin('fink', ['filter', 'add', 'mine', '--survey', 'ztf', '--where', 'fid >= 1', '--owner', 'bob']);
    admin('fink_kafka', ['--create-topic', 'distribution_test']);
    admin('fink_kafka', ['--create-topic', checkpoints, '--partitions', '1']);
    for (const topic of ['distribution_test', checkpoints, TOPIC]) admin('fink_kafka', ['--authorization', '-a', '-u', 'alice', '-p', '-t', topic]);
    for (const topic of [checkpoints, registrations]) admin('fink_kafka', ['--authorization', '-a', '-u', 'alice', '-c', 'fink-reader', '-t', topic]);
    assert.equal(runCli('fink', ['simulate', '--count', '30', '--profile', 'ztf-light', '--seed', '43', '--night', '20261101'], service.env).status, 0);
  });
  after(async () => cluster?.stop());

  // One test, as the steps build on each other: refused, then granted.
  test('without rights on the usage topic the service stops with one line saying what to grant; with them it fills the user topic and list shows it', async () => {
    const refused = runCli('fink', ['start', 'distribution', '--until-caught-up'], service.env);
    assert.equal(refused.status, 1, refused.stdout + refused.stderr);
    assert.match(refused.stderr, new RegExp(`user alice may not use ${USAGE} \\(USER_FILTER_USAGE_TOPIC\\).*fink_kafka --create-topic ${USAGE}.*--authorization -a -u alice -p -t ${USAGE}.*-c fink-reader -t ${USAGE}`));
    assert.doesNotMatch(refused.stderr + refused.stdout, /alice-secret/, 'no password in the output');
    assert.deepEqual(await readAll(superUser, TOPIC), [], 'nothing sent to the user topic');
    // The usage topic exists (the super user's list made nothing; the admin makes it below): alice may not read it yet.
    admin('fink_kafka', ['--create-topic', USAGE, '--partitions', '1']);
    const list = runCli('fink', ['filter', 'list', '--json'], service.env);
    assert.equal(list.status, 0, list.stderr);
    assert.deepEqual((JSON.parse(list.stdout) as { name: string; sent: unknown }[]).map((r) => [r.name, r.sent]), [['mine', null]], 'the registrations listed, the figures left out');
    assert.match(list.stderr, new RegExp(`^fink: Kafka's user may not read ${USAGE} \\(USER_FILTER_USAGE_TOPIC\\): sent and bytes left out; grant it 'fink_kafka --authorization -a -u USER -c fink-reader -t ${USAGE}'$`, 'm'), 'one line says why');

    admin('fink_kafka', ['--authorization', '-a', '-u', 'alice', '-p', '-t', USAGE]);
    admin('fink_kafka', ['--authorization', '-a', '-u', 'alice', '-c', 'fink-reader', '-t', USAGE]);
    const run = runCli('fink', ['start', 'distribution', '--until-caught-up'], service.env);
    assert.equal(run.status, 0, run.stderr);
    const held = await readAll(superUser, TOPIC);
    assert.equal(held.length, 30, 'every alert matches fid >= 1');
    const [row] = JSON.parse(admin('fink', ['filter', 'list', '--json'])) as { sent: number; bytesTonight: number; night: string }[];
    assert.deepEqual([row?.sent, row?.bytesTonight, row?.night], [30, held.reduce((sum, m) => sum + m.key!.length + m.value!.length, 0), '20261101']);
  });
});
