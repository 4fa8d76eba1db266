// What `fink filter list` says each user filter sent (alerts and bytes of the night), from the
// records the distribution writes in USER_FILTER_USAGE_TOPIC with its batches (user-usage.ts),
// compared with what the filter's topic holds, read back at read_committed: in single mode and in
// group mode with two instances, across a SIGKILL; and a group's quota, held within one batch per
// instance. One cluster for the file; each test has its own topics, ids and group.
import assert from 'node:assert/strict';
import { Consumer, FetchIsolationLevels } from '@platformatic/kafka';
import { describe, test } from 'node:test';
import type { AlertFields } from '../../src/alert/fields.ts';
import { kafkaClientOptions, type KafkaConnection } from '../../src/kafka/client-options.ts';
import { readUsage } from '../../src/distribution/user-usage.ts';
import { simulateIntoDb } from '../../src/sciencedb/simulate.ts';
import { runCli, runFink } from '../helpers/cli.ts';
import { committedAlerts, distributionSetup, readAll, SESSION_OPEN, spawnDistribution, type DistributionProcess, type DistributionSetup } from '../helpers/distribution.ts';
import { withTestCluster, type TestCluster } from '../helpers/kafka.ts';
import { createScienceLog, LOG_PARTITIONS, ScienceLogWriter, simulatedAlerts } from '../helpers/science-log.ts';
import { waitFor } from '../helpers/wait.ts';

const NIGHT = '20261205';
const WHERE = 'magpsf < 18.5 AND fid = 1';
const matches = (f: Readonly<AlertFields>): boolean => f.magpsf !== null && f.magpsf < 18.5 && f.fid === 1;
let tags = 0;

interface Listed {
  name: string;
  sent: number | null;
  bytesTonight: number | null;
  night?: string;
}

function userSetup(cluster: TestCluster, overrides: Record<string, string> = {}): DistributionSetup & { tag: string } {
  const tag = `ufu${process.pid}x${++tags}`;
  const setup = distributionSetup(cluster, { USER_FILTERS_TOPIC: `${tag}_registrations`, USER_FILTER_USAGE_TOPIC: `${tag}_usage`, USER_TOPIC_PREFIX: `${tag}_u_`, DISTRIBUTION_POLL_MS: '100', ...overrides });
  return { ...setup, tag };
}

async function addFilter(setup: DistributionSetup, name: string, extra: string[] = []): Promise<string> {
  const added = await runFink(['filter', 'add', name, '--survey', 'ztf', '--where', WHERE, ...extra], setup.env);
  assert.equal(added.status, 0, added.output);
  return `${setup.config.require('USER_TOPIC_PREFIX')}public_${name}_ztf`;
}

/** `fink filter list --json`, the row of `name`. */
function listed(setup: DistributionSetup, name: string, night?: string): Listed {
  const run = runCli('fink', ['filter', 'list', '--json', ...(night === undefined ? [] : ['--night', night])], setup.env);
  assert.equal(run.status, 0, run.stderr);
  const row = (JSON.parse(run.stdout) as Listed[]).find((r) => r.name === name);
  assert.ok(row !== undefined, run.stdout);
  return row;
}

/** What the topic holds: messages, and bytes of keys and values. */
async function held(setup: DistributionSetup, topic: string): Promise<{ alerts: number; bytes: number }> {
  const messages = await readAll(setup.config, topic);
  return { alerts: messages.length, bytes: messages.reduce((sum, m) => sum + m.key!.length + m.value!.length, 0) };
}

/** Whether the group's committed offsets of `topic` have reached its end on every partition. */
async function groupCaughtUp(connection: KafkaConnection, group: string, topic: string): Promise<boolean> {
  const consumer = new Consumer({ clientId: 'usage-test', groupId: group, ...connection });
  try {
    const partitions = Array.from({ length: LOG_PARTITIONS }, (_, i) => i);
    const committed = (await consumer.listCommittedOffsets({ topics: [{ topic, partitions }] })).get(topic) ?? [];
    const ends = (await consumer.listOffsets({ topics: [topic], isolationLevel: FetchIsolationLevels.READ_UNCOMMITTED })).get(topic) ?? [];
    return ends.every((end, p) => (committed[p] ?? -1n) >= end);
  } finally {
    await consumer.close(true);
  }
}

/** The partitions of a member's last `group joined` line. */
function lastAssignment(output: string): string[] {
  const last = [...output.matchAll(/msg="group joined".* partitions="?([^"\s]*)"?/g)].at(-1)?.[1];
  return last === undefined || last === '' ? [] : last.split(',');
}

/** Two group members on a science log of the test's own, with their ids. */
async function groupSetup(cluster: TestCluster, overrides: Record<string, string> = {}) {
  const tag = `ufug${process.pid}x${++tags}`;
  const setup = userSetup(cluster, { SCIENCE_STORE: 'kafka', SCIENCE_TOPIC_PREFIX: `${tag}_science_`, SUBSTREAM_PREFIX: `${tag}_`, DISTRIBUTION_TEST_TOPIC: `${tag}_distribution_test`, ...overrides });
  const connection = kafkaClientOptions(setup.config);
  await createScienceLog(connection, `${tag}_science_`, undefined, ['ztf']);
  const group = `${tag}-group`;
  const member = (suffix: string): DistributionProcess => spawnDistribution({ ...setup.env, DISTRIBUTION_ID: `${setup.env.DISTRIBUTION_ID}-${suffix}` }, ['--group', group]);
  return { setup, connection, group, member, science: `${tag}_science_ztf`, writer: new ScienceLogWriter(connection, `${tag}_science_`, `${tag}-writer`) };
}

describe('fink filter list: what each user filter sent, from the usage topic', () => {
  let cluster: TestCluster;
  withTestCluster((started) => {
    cluster = started;
  });

  test('single mode, across a SIGKILL: list shows the alerts and bytes the topic holds for the night', async () => {
    const setup = userSetup(cluster, { DISTRIBUTION_BATCH: '40' });
    const topic = await addFilter(setup, 'counted');
    const before = listed(setup, 'counted');
    assert.deepEqual([before.sent, before.bytesTonight, before.night], [null, null, undefined], "'-' before a distribution reports");
    assert.equal(simulateIntoDb(setup.dbDir, { profile: 'ztf-light', seed: 21, night: NIGHT }, 3000), 3000);
    const first = spawnDistribution(setup.env);
    try {
      await first.waitForOutput(SESSION_OPEN, 'the first run: its producer session');
      await waitFor('a few batches committed', async () => (await committedAlerts(setup)) > 400, { everyMs: 100, detail: first.output });
      first.child.kill('SIGKILL');
      await first.exited;
      assert.ok((await committedAlerts(setup)) < 3000, 'the kill landed mid-run');
      const finish = await runFink(['start', 'distribution', '--until-caught-up'], setup.env);
      assert.equal(finish.status, 0, finish.output);
    } finally {
      first.child.kill('SIGKILL');
    }
    const want = await held(setup, topic);
    assert.ok(want.alerts > 0, 'the filter matched alerts');
    const row = listed(setup, 'counted');
    assert.deepEqual([row.sent, row.bytesTonight, row.night], [want.alerts, want.bytes, NIGHT]);
    const other = listed(setup, 'counted', '20261204');
    assert.deepEqual([other.sent, other.bytesTonight, other.night], [0, 0, '20261204'], 'a night it sent nothing');
    const table = runCli('fink', ['filter', 'list'], setup.env);
    assert.match(table.stdout, new RegExp(`public +counted +ztf +${topic} +\\S+ +${want.alerts} +${want.bytes} +default `));
    assert.match(table.stdout, new RegExp(`of night ${NIGHT} `));
  });

  test('group mode, two instances, one SIGKILLed and started again: list shows what the topic holds', async (t) => {
    const { setup, connection, group, member, science, writer } = await groupSetup(cluster, { DISTRIBUTION_BATCH: '20' });
    let a = member('a');
    const b = member('b');
    t.after(() => {
      a.child.kill('SIGKILL');
      b.child.kill('SIGKILL');
    });
    await waitFor('both instances in the group', () => /group joined/.test(a.output()) && /group joined/.test(b.output()), { detail: () => a.output() + b.output() });
    const topic = await addFilter(setup, 'grouped');
    const alerts = simulatedAlerts(22, NIGHT, 1000);
    const later = simulatedAlerts(24, NIGHT, 1000);
    await writer.write(alerts);
    const want = [...alerts, ...later].filter((x) => x.survey === 'ztf' && matches(x.fields)).length;
    await waitFor('a part of the alerts on the user topic', async () => (await readAll(setup.config, topic)).length >= 20, { timeoutMs: 240_000, everyMs: 200, detail: () => a.output() + b.output() });
    a.child.kill('SIGKILL');
    await a.exited;
    const usageTopic = setup.config.require('USER_FILTER_USAGE_TOPIC');
    const keyA = `${setup.env.DISTRIBUTION_ID}-a/group/${group}`;
    const recordOfA = async () => (await readUsage(connection, usageTopic, 30_000))?.records.get(keyA)?.['public/grouped/ztf']?.[NIGHT];
    const atKill = await recordOfA();
    a = member('a');
    // The rest is written once the instance started again holds partitions: it sends some of it.
    await waitFor('the restarted instance holding partitions', () => lastAssignment(a.output()).length > 0, { timeoutMs: 240_000, detail: () => a.output() + b.output() });
    await writer.write(later);
    await writer.close();
    await waitFor('the group caught up', () => groupCaughtUp(connection, group, science), { timeoutMs: 300_000, everyMs: 1000, detail: () => a.output() + b.output() });
    a.child.kill('SIGTERM');
    b.child.kill('SIGTERM');
    assert.equal(await a.exited, 0, a.output());
    assert.equal(await b.exited, 0, b.output());
    const got = await held(setup, topic);
    assert.equal(got.alerts, want, 'every matching alert once on the topic');
    const atEnd = await recordOfA();
    assert.ok(atEnd !== undefined && atEnd.alerts > (atKill?.alerts ?? 0), `the restarted instance sent more, on from its record (${JSON.stringify(atKill)} at the kill, ${JSON.stringify(atEnd)} at the end)`);
    const row = listed(setup, 'grouped');
    assert.deepEqual([row.sent, row.bytesTonight, row.night], [got.alerts, got.bytes, NIGHT]);
  });

  test("group mode: a filter's quota holds for the group within one batch per instance", async (t) => {
    const batch = 10;
    const { setup, connection, group, member, science, writer } = await groupSetup(cluster, { DISTRIBUTION_BATCH: String(batch) });
    const a = member('a');
    const b = member('b');
    t.after(() => {
      a.child.kill('SIGKILL');
      b.child.kill('SIGKILL');
    });
    await waitFor('both instances in the group', () => /group joined/.test(a.output()) && /group joined/.test(b.output()), { detail: () => a.output() + b.output() });
    const topic = await addFilter(setup, 'capped', ['--quota-mb', '1']);
    const alerts = simulatedAlerts(23, NIGHT, 2500);
    await writer.write(alerts);
    await writer.close();
    await waitFor('the group caught up', () => groupCaughtUp(connection, group, science), { timeoutMs: 300_000, everyMs: 1000, detail: () => a.output() + b.output() });
    a.child.kill('SIGTERM');
    b.child.kill('SIGTERM');
    assert.equal(await a.exited, 0, a.output());
    assert.equal(await b.exited, 0, b.output());
    const messages = await readAll(setup.config, topic);
    const sizes = messages.map((m) => m.key!.length + m.value!.length);
    const total = sizes.reduce((x, y) => x + y, 0);
    const largest = Math.max(...sizes);
    // Each instance sees the others' usage as of its batch's start: together they pass the quota by
    // at most a batch each (each alert of a batch may match).
    assert.ok(total <= 1_000_000 + 2 * batch * largest, `the topic holds ${total} bytes, within a batch per instance of the quota (${1_000_000 + 2 * batch * largest})`);
    assert.ok(total > 1_000_000 - largest, `the topic is filled to the quota (${total} bytes)`);
    assert.equal(new Set(messages.map((m) => m.value!.toString('base64'))).size, messages.length, 'no alert twice');
    const row = listed(setup, 'capped');
    assert.deepEqual([row.sent, row.bytesTonight, row.night], [messages.length, total, NIGHT]);
  });
});
