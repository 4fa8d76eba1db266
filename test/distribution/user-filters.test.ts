// User filters, live (issue 23): a running distribution fills the topic of every registered
// filter with the alerts its condition matches, exactly once, from the batch after `fink filter
// add` returned on; a removed filter gets nothing more. What each topic must hold is worked out
// here with a plain TypeScript predicate over the simulated alerts, not with the condition
// compiler, and the topics are read back at read_committed and decoded with the schema in each key
// (as fink-client does). One cluster for the file; each test has its own registrations topic,
// user topic prefix and distribution id.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { AlertFields } from '../../src/alert/fields.ts';
import { kafkaClientOptions } from '../../src/kafka/client-options.ts';
import { Metrics } from '../../src/distribution/metrics.ts';
import { prepareTopics, runDistribution } from '../../src/distribution/service.ts';
import type { TopicPlan } from '../../src/distribution/topics.ts';
import { UserTopics } from '../../src/distribution/user-topics.ts';
import { TransactionalSession } from '../../src/kafka/transactional-session.ts';
import { distributionSettings } from '../../src/distribution/settings.ts';
import { simulateIntoDb, createSimulation } from '../../src/sciencedb/simulate.ts';
import { writeRegistration } from '../../src/userfilter/registrations.ts';
import { runFink } from '../helpers/cli.ts';
import { committedAlerts, decodeWithKey, distributionSetup, readAll, SESSION_OPEN, spawnDistribution, waitForCommitted, type DistributionSetup } from '../helpers/distribution.ts';
import { withTestCluster, type TestCluster } from '../helpers/kafka.ts';
import { createScienceLog, ScienceLogWriter, simulatedAlerts } from '../helpers/science-log.ts';
import { tempDir } from '../helpers/temp.ts';
import { waitFor } from '../helpers/wait.ts';

const NIGHT = '20261205';
/** The condition every test registers, and the same written by hand. */
const WHERE = 'magpsf < 18.5 AND fid = 1';
const matches = (f: Readonly<AlertFields>): boolean => f.magpsf !== null && f.magpsf < 18.5 && f.fid === 1;

let tags = 0;

function userSetup(cluster: TestCluster, overrides: Record<string, string> = {}): DistributionSetup & { prefix: string } {
  const tag = `uf${process.pid}x${++tags}`;
  const prefix = `${tag}_u_`;
  const setup = distributionSetup(cluster, { USER_FILTERS_TOPIC: `${tag}_registrations`, USER_TOPIC_PREFIX: prefix, DISTRIBUTION_BATCH: '50', DISTRIBUTION_POLL_MS: '100', ...overrides });
  return { ...setup, prefix };
}

/** The candids of the simulated ZTF alerts of `seed` that the condition matches. */
function expectedOf(seed: number, count: number): bigint[] {
  const sim = createSimulation({ profile: 'ztf-light', seed, night: NIGHT });
  const out: bigint[] = [];
  for (let i = 0; i < count; i++) {
    const alert = sim.next();
    if (alert.survey === 'ztf' && matches(alert.fields)) out.push(alert.alertId);
  }
  return out;
}

async function candidsOf(setup: DistributionSetup, topic: string): Promise<bigint[]> {
  return (await readAll(setup.config, topic)).map((m) => decodeWithKey(m).candid as bigint);
}

/** Exactly `want`, none twice. */
function assertExactly(got: readonly bigint[], want: readonly bigint[], what: string): void {
  assert.ok(want.length > 0, `${what}: the test's alerts match the condition at all`);
  assert.equal(new Set(got).size, got.length, `${what}: no alert twice (${got.length - new Set(got).size} doubled)`);
  assert.deepEqual([...got].sort(), [...want].sort(), `${what}: exactly the matching alerts`);
}

async function addFilter(setup: DistributionSetup, name: string, extra: string[] = []): Promise<string> {
  const added = await runFink(['filter', 'add', name, '--survey', 'ztf', '--where', WHERE, ...extra], setup.env);
  assert.equal(added.status, 0, added.output);
  return `${setup.config.require('USER_TOPIC_PREFIX')}public_${name}_ztf`;
}

function simulate(setup: DistributionSetup, seed: number, count: number): void {
  assert.equal(simulateIntoDb(setup.dbDir, { profile: 'ztf-light', seed, night: NIGHT }, count), count, `seed ${seed}: every alert new`);
}

/** A log line as a test keeps it (ids are bigints). */
function line(level: string, message: string, fields: object | undefined): string {
  return `${level} ${message} ${JSON.stringify(fields ?? {}, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`;
}

/** The service in this process, continuous, with its log lines kept. */
function running(setup: DistributionSetup): { stop: () => Promise<void>; logs: string[] } {
  const stop = new AbortController();
  const logs: string[] = [];
  const service = runDistribution(distributionSettings(setup.config), { signal: stop.signal, log: (level, message, fields) => logs.push(line(level, message, fields)) });
  return {
    logs,
    stop: async () => {
      stop.abort();
      await service;
    },
  };
}

describe('user filters filled by the running distribution', () => {
  let cluster: TestCluster;
  withTestCluster((started) => {
    cluster = started;
  });

  test('a filter added while the distribution runs receives exactly the matching alerts stored after add returned, none twice', async () => {
    const setup = userSetup(cluster);
    simulate(setup, 1, 300);
    const service = running(setup);
    try {
      assert.equal(await waitForCommitted(setup, 300), 300, service.logs.join('\n'));
      const topic = await addFilter(setup, 'bright_g');
      simulate(setup, 2, 600);
      assert.equal(await waitForCommitted(setup, 900), 900, service.logs.join('\n'));
      assertExactly(await candidsOf(setup, topic), expectedOf(2, 600), topic);
    } finally {
      await service.stop();
    }
  });

  test('across a SIGKILL of the distribution: every matching alert stored after add once on the user topic', async () => {
    const setup = userSetup(cluster, { DISTRIBUTION_BATCH: '40' });
    simulate(setup, 3, 200);
    const first = spawnDistribution(setup.env);
    try {
      await first.waitForOutput(SESSION_OPEN, 'the first run: its producer session');
      assert.equal(await waitForCommitted(setup, 200), 200, first.output());
      const topic = await addFilter(setup, 'killed');
      simulate(setup, 4, 3000);
      await waitFor('a commit after the add', async () => (await committedAlerts(setup)) > 400, { everyMs: 100, detail: first.output });
      first.child.kill('SIGKILL');
      await first.exited;
      const at = await committedAlerts(setup);
      assert.ok(at < 3200, `the kill landed mid-run (${at} of 3200 committed)`);
      const finish = await runFink(['start', 'distribution', '--until-caught-up'], setup.env);
      assert.equal(finish.status, 0, finish.output);
      assertExactly(await candidsOf(setup, topic), expectedOf(4, 3000), topic);
    } finally {
      first.child.kill('SIGKILL');
    }
  });

  test('a removed filter receives nothing from the next batch on', async () => {
    const setup = userSetup(cluster);
    const service = running(setup);
    try {
      await waitFor('the session open', () => service.logs.some((l) => SESSION_OPEN.test(l)), { detail: () => service.logs.join('\n') });
      const topic = await addFilter(setup, 'removed');
      simulate(setup, 5, 300);
      assert.equal(await waitForCommitted(setup, 300), 300, service.logs.join('\n'));
      const removed = await runFink(['filter', 'remove', 'removed', '--survey', 'ztf'], setup.env);
      assert.equal(removed.status, 0, removed.output);
      simulate(setup, 6, 300);
      assert.equal(await waitForCommitted(setup, 600), 600, service.logs.join('\n'));
      assertExactly(await candidsOf(setup, topic), expectedOf(5, 300), topic);
    } finally {
      await service.stop();
    }
  });

  test('a filter with --content light gets the matching alerts without cutouts nor history', async () => {
    const setup = userSetup(cluster);
    const topic = await addFilter(setup, 'light_g', ['--content', 'light']);
    simulate(setup, 7, 300);
    const run = await runFink(['start', 'distribution', '--until-caught-up'], setup.env);
    assert.equal(run.status, 0, run.output);
    const messages = await readAll(setup.config, topic);
    assertExactly(messages.map((m) => decodeWithKey(m).candid as bigint), expectedOf(7, 300), topic);
    for (const m of messages) {
      const fields = (JSON.parse(m.key!.toString()) as { fields: { name: string }[] }).fields.map((f) => f.name);
      for (const dropped of ['cutoutScience', 'cutoutTemplate', 'cutoutDifference', 'prv_candidates']) assert.ok(!fields.includes(dropped), `${topic}: the key's schema has no ${dropped}`);
      assert.ok(!('cutoutScience' in decodeWithKey(m)), `${topic}: the alert has no cutoutScience`);
    }
  });

  test("the topics fink filter add made are not prepared again at start; only a registration's missing topic is", async () => {
    const setup = userSetup(cluster);
    const made = await addFilter(setup, 'made');
    const settings = distributionSettings(setup.config);
    // A registration written without `fink filter add`: its topic does not exist yet.
    const bare = `${setup.prefix}public_bare_ztf`;
    await writeRegistration(settings.connection, settings.userFiltersTopic, { owner: 'public', name: 'bare', survey: 'ztf', where: WHERE, content: 'full', quotaMb: null, created: new Date().toISOString(), topic: bare });
    const prepared: string[] = [];
    const prepare = async (plans: readonly TopicPlan[]) => {
      prepared.push(...plans.map((p) => p.topic));
      return prepareTopics(settings, plans, () => {}, false);
    };
    const users = new UserTopics(settings, prepare, [], () => {}, new Metrics());
    const session = new TransactionalSession({ connection: settings.connection, transactionalId: `${settings.id}-prepare`, clientId: 'user-topics-test', compression: settings.compression });
    try {
      await session.open();
      const targets = await users.targets(session);
      assert.deepEqual(prepared, [bare]);
      assert.deepEqual(targets.map((t) => t.plan.topic).sort(), [bare, made].sort());
      assert.ok(targets.every((t) => t.partitions === settings.newTopics.partitions && t.maxMessageBytes > 0), JSON.stringify(targets.map((t) => [t.partitions, t.maxMessageBytes])));
    } finally {
      await session.close();
      await users.close();
    }
  });

  test('a registration that does not compile (a field no alert has) is logged once and skipped; the other filters are filled', async () => {
    const setup = userSetup(cluster);
    const connection = kafkaClientOptions(setup.config);
    const topic = await addFilter(setup, 'good');
    const broken = { owner: 'public', name: 'broken', survey: 'ztf' as const, where: 'no_such_field > 1', content: 'full' as const, quotaMb: null, created: new Date().toISOString(), topic: `${setup.prefix}public_broken_ztf` };
    await writeRegistration(connection, setup.config.require('USER_FILTERS_TOPIC'), broken);
    const service = running(setup);
    try {
      simulate(setup, 8, 200);
      assert.equal(await waitForCommitted(setup, 200), 200, service.logs.join('\n'));
      simulate(setup, 9, 200);
      assert.equal(await waitForCommitted(setup, 400), 400, service.logs.join('\n'));
    } finally {
      await service.stop();
    }
    assertExactly(await candidsOf(setup, topic), [...expectedOf(8, 200), ...expectedOf(9, 200)], topic);
    const refused = service.logs.filter((l) => l.includes('does not compile'));
    assert.equal(refused.length, 1, service.logs.join('\n'));
    assert.match(refused[0]!, /public\/broken\/ztf/);
  });

  test("a registration naming a topic that is not its own (the checkpoint topic) is skipped with one line; nothing is written there", async () => {
    const setup = userSetup(cluster);
    const connection = kafkaClientOptions(setup.config);
    const topic = await addFilter(setup, 'honest');
    const checkpoints = setup.config.require('DISTRIBUTION_CHECKPOINT_TOPIC');
    const forged = { owner: 'public', name: 'forged', survey: 'ztf' as const, where: 'fid = 1', content: 'full' as const, quotaMb: null, created: new Date().toISOString(), topic: checkpoints };
    await writeRegistration(connection, setup.config.require('USER_FILTERS_TOPIC'), forged);
    simulate(setup, 14, 200);
    const logs: string[] = [];
    await runDistribution(distributionSettings(setup.config), { untilCaughtUp: true, log: (level, message, fields) => logs.push(line(level, message, fields)) });
    assertExactly(await candidsOf(setup, topic), expectedOf(14, 200), topic);
    const alertsThere = (await readAll(setup.config, checkpoints)).filter((m) => m.key?.toString().startsWith('{') === true);
    assert.equal(alertsThere.length, 0, 'no alert in the checkpoint topic');
    const lines = logs.filter((l) => l.includes('public/forged/ztf'));
    assert.equal(lines.length, 1, logs.join('\n'));
    assert.match(lines[0]!, /its topic is not the one/);
  });

  test('a condition that throws for some alerts does not match them, is counted for each and logged once, and stops nothing', async () => {
    const filters = tempDir('throwing-filters');
    writeFileSync(join(filters, 'boom.mjs'), "export const description = 'throws for fid 2';\nexport function filter(alert) {\n  if (alert.fid === 2) throw new Error('boom for fid 2');\n  return true;\n}\n");
    const setup = userSetup(cluster, { FILTERS_DIR: filters });
    const added = await runFink(['filter', 'add', 'boomer', '--survey', 'ztf', '--where', 'boom AND magpsf < 18.5'], setup.env);
    assert.equal(added.status, 0, added.output);
    const topic = `${setup.prefix}public_boomer_ztf`;
    simulate(setup, 13, 300);
    const metrics = new Metrics();
    const logs: string[] = [];
    await runDistribution(distributionSettings(setup.config), { untilCaughtUp: true, metrics, log: (level, message, fields) => logs.push(line(level, message, fields)) });
    const sim = createSimulation({ profile: 'ztf-light', seed: 13, night: NIGHT });
    const all = Array.from({ length: 300 }, () => sim.next()).flatMap((a) => (a.survey === 'ztf' ? [a] : []));
    const fid2 = all.filter((a) => a.fields.fid === 2).length;
    assert.ok(fid2 > 0, 'the seed has fid 2 alerts');
    assertExactly(await candidsOf(setup, topic), all.filter((a) => a.fields.fid !== 2 && a.fields.magpsf !== null && a.fields.magpsf < 18.5).map((a) => a.alertId), topic);
    assert.equal(metrics.userFilterErrors.get('public/boomer/ztf'), fid2, 'each alert it threw for counted');
    const lines = logs.filter((l) => l.includes('a user filter threw'));
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0]!, /public\/boomer\/ztf.*boom for fid 2/);
  });

  test('a quota of 1 MB a night holds across a restart: the topic gets the matching alerts up to it, within one message, and the rest are counted over quota', async () => {
    const setup = userSetup(cluster);
    const topic = await addFilter(setup, 'capped', ['--quota-mb', '1']);
    const bytesOf = async () => (await readAll(setup.config, topic)).reduce((sum, m) => sum + m.key!.length + m.value!.length, 0);
    simulate(setup, 11, 200);
    const first = await runFink(['start', 'distribution', '--until-caught-up'], setup.env);
    assert.equal(first.status, 0, first.output);
    const before = await bytesOf();
    assertExactly(await candidsOf(setup, topic), expectedOf(11, 200), `${topic} under its quota`);
    assert.ok(before < 1_000_000, `the first run stays under the quota (${before} bytes)`);
    // A new process: what the first sent this night comes back from its checkpoint.
    simulate(setup, 12, 600);
    const metrics = new Metrics();
    await runDistribution(distributionSettings(setup.config), { untilCaughtUp: true, metrics });
    const sent = await candidsOf(setup, topic);
    const total = await bytesOf();
    assert.ok(total <= 1_000_000, `the topic holds ${total} bytes this night, at most the quota`);
    assert.ok(total > 1_000_000 - 13_000, `the topic is filled to within one message of the quota (${total} bytes)`);
    assert.equal(new Set(sent).size, sent.length, 'no alert twice');
    const matching = expectedOf(11, 200).length + expectedOf(12, 600).length;
    assert.equal(metrics.userFilterOverQuota.get('public/capped/ztf'), matching - sent.length, 'every matching alert not sent is counted over quota');
  });

  test('group mode, two instances: a filter added while they run gets every matching alert once', async (t) => {
    const tag = `ufg${process.pid}x${++tags}`;
    const setup = userSetup(cluster, { SCIENCE_STORE: 'kafka', SCIENCE_TOPIC_PREFIX: `${tag}_science_`, SUBSTREAM_PREFIX: `${tag}_`, DISTRIBUTION_TEST_TOPIC: `${tag}_distribution_test` });
    const connection = kafkaClientOptions(setup.config);
    await createScienceLog(connection, `${tag}_science_`, undefined, ['ztf']);
    const writer = new ScienceLogWriter(connection, `${tag}_science_`, `${tag}-writer`);
    const group = `${tag}-group`;
    const a = spawnDistribution({ ...setup.env, DISTRIBUTION_ID: `${setup.env.DISTRIBUTION_ID}-a` }, ['--group', group]);
    const b = spawnDistribution({ ...setup.env, DISTRIBUTION_ID: `${setup.env.DISTRIBUTION_ID}-b` }, ['--group', group]);
    t.after(() => {
      a.child.kill('SIGKILL');
      b.child.kill('SIGKILL');
    });
    await waitFor('both instances in the group', () => /group joined/.test(a.output()) && /group joined/.test(b.output()), { detail: () => a.output() + b.output() });
    const topic = await addFilter(setup, 'grouped');
    const alerts = simulatedAlerts(10, NIGHT, 1500);
    await writer.write(alerts);
    await writer.close();
    const want = alerts.flatMap((x) => (x.survey === 'ztf' && matches(x.fields) ? [x.alertId] : []));
    await waitFor(`${want.length} alerts on ${topic}`, async () => (await readAll(setup.config, topic)).length >= want.length, { timeoutMs: 240_000, everyMs: 500, detail: () => a.output() + b.output() });
    a.child.kill('SIGTERM');
    b.child.kill('SIGTERM');
    assert.equal(await a.exited, 0, a.output());
    assert.equal(await b.exited, 0, b.output());
    assertExactly(await candidsOf(setup, topic), want, topic);
  });
});
