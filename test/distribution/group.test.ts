// Group mode (SCIENCE_STORE=kafka, `fink start distribution --group G`): instances sharing the
// science log's partitions through a consumer group, each batch and the group's offsets in one
// transaction. One cluster for the file; each test has its own log, topics and group.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, FetchIsolationLevels } from '@platformatic/kafka';
import type { Survey } from '../../src/alert/survey.ts';
import { GroupMember } from '../../src/kafka/group-member.ts';
import { TransactionalSession } from '../../src/kafka/transactional-session.ts';
import { createTransactionalProducer } from '../../src/kafka/transactional-producer.ts';
import { ensureTopic } from '../../src/kafka/topics.ts';
import { GroupFencedError } from '../../src/kafka/txn-offsets.ts';
import { silentLogger } from '../../src/log.ts';
import { kafkaClientOptions, type KafkaConnection } from '../../src/kafka/client-options.ts';
import { scienceTopic } from '../../src/sciencedb/log-format.ts';
import { runFink } from '../helpers/cli.ts';
import { decodeWithKey, distributionSetup, readAll, spawnDistribution, type DistributionSetup } from '../helpers/distribution.ts';
import { tempDir } from '../helpers/temp.ts';
import { waitFor } from '../helpers/wait.ts';
import { pausedPastItsTransaction } from '../helpers/transactions.ts';
import { assertExactlyOnce, expectedTopics } from '../helpers/exactly-once.ts';
import { withTestCluster, type TestCluster } from '../helpers/kafka.ts';
import { createScienceLog, ScienceLogWriter, simulatedAlerts } from '../helpers/science-log.ts';

const NIGHT = '20261204';
let tags = 0;

/** A distribution set-up on a science log of its own, with topics and a group of its own. */
async function groupSetup(cluster: TestCluster, overrides: Record<string, string> = {}, surveys: readonly Survey[] = ['ztf', 'lsst']): Promise<{ setup: DistributionSetup; group: string; writer: ScienceLogWriter; prefix: string; connection: KafkaConnection }> {
  const tag = `g${process.pid}x${++tags}`;
  const setup = distributionSetup(cluster, {
    SCIENCE_STORE: 'kafka',
    SCIENCE_TOPIC_PREFIX: `${tag}_science_`,
    SUBSTREAM_PREFIX: `${tag}_`,
    DISTRIBUTION_TEST_TOPIC: `${tag}_distribution_test`,
    ...overrides,
  });
  const connection = kafkaClientOptions(setup.config);
  await createScienceLog(connection, `${tag}_science_`, undefined, surveys);
  return { setup, group: `${tag}-group`, writer: new ScienceLogWriter(connection, `${tag}_science_`, `${tag}-writer`), prefix: `${tag}_science_`, connection };
}

/** The partitions named in an instance's last 'group joined' line. */
function lastAssignment(output: string): string[] {
  const lines = [...output.matchAll(/msg="group joined".* partitions="?([^"\s]*)"?/g)];
  const last = lines.at(-1)?.[1];
  return last === undefined || last === '' ? [] : last.split(',');
}

/**
 * Waits until no transaction is open on `topics` (their stable ends meet their ends): a SIGKILLed
 * instance's transaction stays open until the coordinator aborts it (the transaction timeout), and
 * read_committed readers see nothing past it meanwhile.
 */
async function noOpenTransaction(connection: KafkaConnection, topics: readonly string[]): Promise<void> {
  const consumer = new Consumer({ clientId: 'group-test', groupId: 'group-test', ...connection });
  try {
    await waitFor('no transaction open on the distributed topics', async () => {
      const stable = await consumer.listOffsets({ topics: [...topics], isolationLevel: FetchIsolationLevels.READ_COMMITTED });
      const high = await consumer.listOffsets({ topics: [...topics], isolationLevel: FetchIsolationLevels.READ_UNCOMMITTED });
      return topics.every((topic) => (stable.get(topic) ?? []).every((o, p) => o === high.get(topic)?.[p]));
    }, { timeoutMs: 180_000, everyMs: 500 });
  } finally {
    await consumer.close(true);
  }
}

/** The group's committed offsets of the science log's ztf topic, by partition. */
async function committedOffsets(connection: KafkaConnection, group: string, topic: string): Promise<bigint[]> {
  const consumer = new Consumer({ clientId: 'group-test', groupId: group, ...connection });
  try {
    const offsets = await consumer.listCommittedOffsets({ topics: [{ topic, partitions: Array.from({ length: 12 }, (_, i) => i) }] });
    return offsets.get(topic) ?? [];
  } finally {
    await consumer.close(true);
  }
}

describe('the distribution as a consumer group', () => {
  let cluster: TestCluster;
  withTestCluster((started) => {
    cluster = started;
  });

  test('two instances, one SIGKILLed mid-stream: the survivor takes its partitions over within the session timeout, and every alert is once on every topic it matches', async (t) => {
    const { setup, group, writer, prefix, connection } = await groupSetup(cluster, { DISTRIBUTION_BATCH: '25' });
    const alerts = simulatedAlerts(23, NIGHT, 3000);
    await writer.write(alerts.slice(0, 1500));
    const a = spawnDistribution({ ...setup.env, DISTRIBUTION_ID: `${setup.env.DISTRIBUTION_ID}-a` }, ['--group', group]);
    const b = spawnDistribution({ ...setup.env, DISTRIBUTION_ID: `${setup.env.DISTRIBUTION_ID}-b` }, ['--group', group]);
    t.after(() => {
      a.child.kill('SIGKILL');
      b.child.kill('SIGKILL');
    });
    const ztf = scienceTopic(prefix, 'ztf');
    // Both members hold partitions, and the one to be killed has committed some of its own.
    await waitFor('both instances holding partitions', () => lastAssignment(a.output()).length > 0 && lastAssignment(b.output()).length > 0 && lastAssignment(a.output()).length + lastAssignment(b.output()).length === 24, { detail: () => a.output() + b.output() });
    const ofA = lastAssignment(a.output()).filter((p) => p.startsWith(`${ztf}/`)).map((p) => Number(p.split('/')[1]));
    await waitFor('a commit of the instance to be killed', async () => {
      const committed = await committedOffsets(connection, group, ztf);
      return ofA.some((p) => (committed[p] ?? -1n) > 0n);
    }, { everyMs: 100 });
    const writing = writer.write(alerts.slice(1500));
    a.child.kill('SIGKILL');
    const killedAt = Date.now();
    await a.exited;
    await waitFor('the survivor holding every partition', () => lastAssignment(b.output()).length === 24, { detail: () => b.output() });
    const takeover = (Date.now() - killedAt) / 1000;
    t.diagnostic(`the survivor held every partition ${takeover.toFixed(1)} s after the SIGKILL`);
    assert.ok(takeover < 25, `takeover in ${takeover.toFixed(1)} s: the session timeout is 10 s, heartbeats every second`);
    await writing;
    await writer.close();
    // A third instance joins, distributes what is left with the survivor, and leaves once the group's lag is zero.
    const finish = await runFink(['start', 'distribution', '--group', group, '--until-caught-up'], { ...setup.env, DISTRIBUTION_ID: `${setup.env.DISTRIBUTION_ID}-c` });
    assert.equal(finish.status, 0, finish.output);
    b.child.kill('SIGTERM');
    assert.equal(await b.exited, 0, b.output());
    const expected = await expectedTopics(setup, NIGHT, [{ seed: 23, count: 3000 }]);
    await noOpenTransaction(connection, [...expected.keys()]);
    await assertExactlyOnce(t, cluster, setup, expected);
  });

  test('--until-caught-up in group mode exits 0 once everything is distributed, each alert once on every topic it matches', async (t) => {
    const { setup, group, writer } = await groupSetup(cluster, { DISTRIBUTION_BATCH: '100' });
    await writer.write(simulatedAlerts(21, NIGHT, 800));
    await writer.close();
    const run = await runFink(['start', 'distribution', '--group', group, '--until-caught-up'], setup.env);
    assert.equal(run.status, 0, run.output);
    await assertExactlyOnce(t, cluster, setup, await expectedTopics(setup, NIGHT, [{ seed: 21, count: 800 }]));
  });

  test('an alert written twice to the log, close together, is distributed once, also when its copies lie on both sides of a handover', async (t) => {
    const { setup, group, writer } = await groupSetup(cluster, { DISTRIBUTION_BATCH: '60' });
    const alerts = simulatedAlerts(24, NIGHT, 600);
    await writer.write(alerts.slice(0, 400));
    const first = await runFink(['start', 'distribution', '--group', group, '--until-caught-up'], { ...setup.env, DISTRIBUTION_ID: `${setup.env.DISTRIBUTION_ID}-a` });
    assert.equal(first.status, 0, first.output);
    // Copies of alerts the first instance distributed, new alerts, and copies of those new alerts.
    await writer.write([...alerts.slice(300, 400), ...alerts.slice(400, 600), ...alerts.slice(400, 450)]);
    await writer.close();
    const second = await runFink(['start', 'distribution', '--group', group, '--until-caught-up'], { ...setup.env, DISTRIBUTION_ID: `${setup.env.DISTRIBUTION_ID}-b` });
    assert.equal(second.status, 0, second.output);
    assert.match(second.output, /150 duplicates in the science log passed over/);
    await assertExactlyOnce(t, cluster, setup, await expectedTopics(setup, NIGHT, [{ seed: 24, count: 600 }]));
  });

  test('a record of the log that is not an alert is skipped with a record naming its topic, partition and offset; the others go out', async (t) => {
    const { setup, group, writer, prefix } = await groupSetup(cluster);
    const alerts = simulatedAlerts(25, NIGHT, 200);
    await writer.write(alerts.slice(0, 100));
    await writer.writeRaw([{ topic: scienceTopic(prefix, 'ztf'), partition: 3, key: Buffer.from('not-an-object'), value: Buffer.from('not a science log record') }]);
    await writer.write(alerts.slice(100));
    await writer.close();
    const run = await runFink(['start', 'distribution', '--group', group, '--until-caught-up'], setup.env);
    assert.equal(run.status, 0, run.output);
    assert.match(run.output, new RegExp(`not an alert: skipped.* topic=${scienceTopic(prefix, 'ztf')} partition=3 offset=\\d+`));
    const record = join(setup.stateDir, 'refused-records.jsonl');
    assert.ok(existsSync(record), 'the refused record is recorded in the state folder');
    const lines = readFileSync(record, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { topic: string; partition: number; offset: string });
    assert.deepEqual(lines.map((l) => [l.topic, l.partition]), [[scienceTopic(prefix, 'ztf'), 3]]);
    await assertExactlyOnce(t, cluster, setup, await expectedTopics(setup, NIGHT, [{ seed: 25, count: 200 }]));
  });

  test("a member whose generation is over is fenced: its transaction's offsets are refused and nothing it sent is visible (KIP-447)", async (t) => {
    const { setup, group, writer, prefix, connection } = await groupSetup(cluster);
    await writer.write(simulatedAlerts(26, NIGHT, 50));
    await writer.close();
    const out = `${group}-out`;
    await ensureTopic(connection, out, { partitions: 1, replicationFactor: 1 });
    const ztf = scienceTopic(prefix, 'ztf');
    const first = new GroupMember(connection, group, 'member-1', silentLogger);
    const second = new GroupMember(connection, group, 'member-2', silentLogger);
    const session = new TransactionalSession({ connection, transactionalId: `${group}-tx-1`, clientId: 'group-test' });
    t.after(async () => {
      await session.close();
      await first.close();
      await second.close();
    });
    await first.subscribe([ztf]);
    const old = await waitFor('the first member joined', () => first.assignment);
    await session.open();
    // Within its generation, the member's offsets and messages commit together.
    await session.send([[{ topic: out, partition: 0, key: Buffer.from('k'), value: Buffer.from('in generation') }]]);
    await session.commitOffsets(() => first.coordinator(), old.group, [{ topic: ztf, partition: 0, offset: 1n }]);
    await session.commit();
    // A second member joins: the group moves to a new generation and the partitions are shared anew.
    await second.subscribe([ztf]);
    await waitFor('a new generation', () => (first.assignment !== undefined && first.assignment.group.generationId > old.group.generationId ? true : undefined));
    await session.send([[{ topic: out, partition: 0, key: Buffer.from('k'), value: Buffer.from('stale generation') }]]);
    await assert.rejects(session.commitOffsets(() => first.coordinator(), old.group, [{ topic: ztf, partition: 0, offset: 2n }]), (err: unknown) => err instanceof GroupFencedError && err.reasons.includes('ILLEGAL_GENERATION'));
    assert.equal(await session.close(), true, 'the transaction that sent data is aborted');
    const seen = (await readAll(setup.config, out)).map((m) => m.value!.toString());
    assert.deepEqual(seen, ['in generation']);
    assert.equal((await committedOffsets(connection, group, ztf))[0], 1n, "the stale member's offset is not committed");
  });

  test("an instance paused until the coordinator aborted its open transaction (the transaction timeout) runs on when it resumes: its own transaction, not another instance's; every alert is once on every topic", async (t) => {
    const { setup, group, writer, connection } = await groupSetup(cluster, { DISTRIBUTION_BATCH: '25' });
    const alerts = simulatedAlerts(32, NIGHT, 3000);
    await writer.write(alerts.slice(0, 1500));
    const id = `${setup.env.DISTRIBUTION_ID}-paused`;
    const a = spawnDistribution({ ...setup.env, DISTRIBUTION_ID: id }, ['--group', group]);
    const asker = createTransactionalProducer(connection, `${id}-asker`, 'group-test');
    t.after(async () => {
      a.child.kill('SIGKILL');
      await asker.close();
    });
    await a.waitForOutput(/msg="partitions taken at the committed offsets"/, 'the instance taking its partitions');
    const writing = writer.write(alerts.slice(1500));
    const aborted = await pausedPastItsTransaction(a.child, asker, id);
    a.child.kill('SIGCONT');
    await writing;
    await writer.close();
    const topic = setup.config.require('DISTRIBUTION_TEST_TOPIC');
    let seen = 0;
    await waitFor('every alert on the test topic, or the instance stopping', async () => a.child.exitCode !== null || (seen = (await readAll(setup.config, topic)).length) >= alerts.length, { timeoutMs: 300_000, everyMs: 1000, detail: () => `${seen} read\n${a.output()}` });
    assert.equal(a.child.exitCode, null, `the instance stopped after its own transaction was aborted (epoch ${aborted.producerEpoch}):\n${a.output()}`);
    assert.doesNotMatch(a.output(), /fenced this one/);
    a.child.kill('SIGTERM');
    assert.equal(await a.exited, 0, a.output());
    const expected = await expectedTopics(setup, NIGHT, [{ seed: 32, count: alerts.length }]);
    await noOpenTransaction(connection, [...expected.keys()]);
    await assertExactlyOnce(t, cluster, setup, expected);
  });

  test('a second instance started with the same DISTRIBUTION_ID stops the first, which says so; the second distributes every alert once', async (t) => {
    const { setup, group, writer, connection } = await groupSetup(cluster, { DISTRIBUTION_BATCH: '25' });
    const alerts = simulatedAlerts(33, NIGHT, 3000);
    await writer.write(alerts.slice(0, 1500));
    const env = { ...setup.env, DISTRIBUTION_ID: `${setup.env.DISTRIBUTION_ID}-twice` };
    const first = spawnDistribution(env, ['--group', group]);
    t.after(() => first.child.kill('SIGKILL'));
    await first.waitForOutput(/msg="partitions taken at the committed offsets"/, 'the first instance taking its partitions');
    const writing = writer.write(alerts.slice(1500));
    // As on a host of its own: a state folder of its own (the pid file of the first is not there).
    const elsewhere = tempDir('group-twice');
    const second = spawnDistribution({ ...env, DISTRIBUTION_STATE_DIR: join(elsewhere, 'state'), DISTRIBUTION_SCHEMA: join(elsewhere, 'schemas', 'distribution_schema.avsc') }, ['--group', group]);
    t.after(() => second.child.kill('SIGKILL'));
    await waitFor('the first instance stopping', () => first.child.exitCode !== null, { timeoutMs: 180_000, everyMs: 200, detail: () => `--- first\n${first.output()}\n--- second\n${second.output()}` });
    assert.equal(first.child.exitCode, 1, first.output());
    assert.match(first.output(), new RegExp(`^fink: another instance with DISTRIBUTION_ID=${env.DISTRIBUTION_ID} started and fenced this one`, 'm'));
    await writing;
    await writer.close();
    const topic = setup.config.require('DISTRIBUTION_TEST_TOPIC');
    let seen = 0;
    await waitFor('every alert on the test topic, or the second instance stopping', async () => second.child.exitCode !== null || (seen = (await readAll(setup.config, topic)).length) >= alerts.length, { timeoutMs: 300_000, everyMs: 1000, detail: () => `${seen} read\n${second.output()}` });
    second.child.kill('SIGTERM');
    assert.equal(await second.exited, 0, second.output());
    const expected = await expectedTopics(setup, NIGHT, [{ seed: 33, count: alerts.length }]);
    await noOpenTransaction(connection, [...expected.keys()]);
    await assertExactlyOnce(t, cluster, setup, expected);
  });

  test('a log with one survey\'s topic only: the missing one costs no wait between batches', async () => {
    const { setup, group, writer } = await groupSetup(cluster, { DISTRIBUTION_BATCH: '50' }, ['ztf']);
    await writer.write(simulatedAlerts(30, NIGHT, 600));
    await writer.close();
    // Twelve batches. Looking for the Rubin topic by name cost 10 s (the client's retries) every 5 s, before each batch: 120 s and more.
    const started = Date.now();
    const run = await runFink(['start', 'distribution', '--group', group, '--until-caught-up'], setup.env);
    const seconds = (Date.now() - started) / 1000;
    assert.equal(run.status, 0, run.output);
    assert.ok(seconds < 90, `600 alerts in batches of 50 took ${seconds.toFixed(1)} s`);
  });

  test('a science topic created after the instances started is picked up when it appears', async (t) => {
    const { setup, group, writer, prefix } = await groupSetup(cluster, {}, ['ztf']);
    const run = spawnDistribution(setup.env, ['--group', group]);
    t.after(() => run.child.kill('SIGKILL'));
    await run.waitForOutput(/msg="group joined"/, 'the instance joined the group over the ztf topic');
    await writer.write(simulatedAlerts(27, NIGHT, 100));
    await createScienceLog(kafkaClientOptions(setup.config), prefix, undefined, ['lsst']);
    const rubin = simulatedAlerts(27, NIGHT, 40, 'lsst-light');
    await writer.write(rubin);
    await writer.close();
    const topic = setup.config.require('DISTRIBUTION_TEST_TOPIC');
    let seen: Record<string, unknown>[] = [];
    await waitFor('the ztf and lsst alerts on the test topic', async () => (seen = (await readAll(setup.config, topic)).map(decodeWithKey)).length >= 140, { timeoutMs: 180_000, everyMs: 1000, detail: () => `${seen.length} messages\n${run.output()}` });
    run.child.kill('SIGTERM');
    assert.equal(await run.exited, 0, run.output());
    const ids = new Set(seen.filter((a) => 'diaSourceId' in a).map((a) => a.diaSourceId as bigint));
    assert.deepEqual([...ids].sort(), rubin.map((a) => a.alertId).sort(), 'every Rubin alert once');
    assert.equal(seen.length, 140, 'nothing twice');
  });

  test('an alert whose schema is not in the schemas topic stops the instance with its topic, partition and offset named', async () => {
    const { setup, group, writer, prefix } = await groupSetup(cluster);
    const [alert] = simulatedAlerts(28, NIGHT, 1);
    const message = writer.message(alert!);
    await writer.writeRaw([message]);
    await writer.close();
    const run = await runFink(['start', 'distribution', '--group', group, '--until-caught-up'], setup.env);
    assert.equal(run.status, 1, run.output);
    assert.match(run.output, new RegExp(`schema ${alert!.schemaId} of the alert at ${message.topic}/${message.partition} offset 0 is not in ${prefix}schemas`));
  });

  test('--group with the SQLite science database is a usage error that says what to set', async () => {
    const setup = distributionSetup(cluster);
    const run = await runFink(['start', 'distribution', '--group', 'g', '--until-caught-up'], setup.env);
    assert.equal(run.status, 2, run.output);
    assert.match(run.output, /--group \(DISTRIBUTION_GROUP=g\) needs the science log: set SCIENCE_STORE=kafka/);
  });
});
