// fink start stream2science with SCIENCE_STORE=kafka against a real Kafka: the survey's stream (an
// upstream topic on the test cluster) into the science log, each round's alerts and upstream
// positions (the compacted UPSTREAM_POSITIONS_TOPIC) in one Kafka transaction. An independent
// read_committed reader of the log finds every upstream alert exactly once, whatever is killed and
// whenever, and a second instance of the group fences the first.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { loadConfig } from '../../src/config/config.ts';
import { kafkaClientOptions, type KafkaConnection } from '../../src/kafka/client-options.ts';
import { readTopic, TopicMissingError } from '../../src/kafka/topic-reader.ts';
import { scienceTopic, type LoggedAlert } from '../../src/sciencedb/log-format.ts';
import { loggedAlerts } from '../helpers/science-log.ts';
import { readLogPositions } from '../../src/sciencedb/log-positions.ts';
import { runCli, spawnFink, testEnv } from '../helpers/cli.ts';
import { startTestCluster, type TestCluster , withTestCluster } from '../helpers/kafka.ts';
import { seededRandom } from '../helpers/random.ts';
import { kcatIfInstalled, kcatReadCommitted } from '../helpers/readers.ts';
import { produceUpstream, simulatedZtfAlerts, stream2scienceSetup, upstreamProducer, type Stream2ScienceSetup, type UpstreamAlert } from '../helpers/upstream.ts';
import { waitFor } from '../helpers/wait.ts';

const POSITIONS = '_fink_stream2science_positions';

let cluster: TestCluster;
let connection: KafkaConnection;

withTestCluster((started) => {
  cluster = started;
  connection = kafkaClientOptions(loadConfig({ env: testEnv(cluster.env) }));
});

/** A stream2science of its own writing the science log under `prefix`. */
function logSetup(topics: string, prefix: string, overrides: Record<string, string> = {}): Stream2ScienceSetup {
  return stream2scienceSetup(cluster, topics, { SCIENCE_STORE: 'kafka', SCIENCE_TOPIC_PREFIX: prefix, SCIENCE_PARTITIONS: '3', ...overrides });
}

/** Every ZTF alert of the log under `prefix`, as a read_committed reader finds them. */
const logged = (prefix: string): Promise<LoggedAlert[]> => loggedAlerts(connection, prefix, 'ztf');

/** Every sent alert once in the log, its bytes as sent (the datum and the added values, contiguous), and nothing else. */
async function assertLoggedOnce(prefix: string, sent: readonly UpstreamAlert[]): Promise<void> {
  const read = await logged(prefix);
  const byId = new Map<bigint, LoggedAlert[]>();
  for (const a of read) byId.set(a.alertId, [...(byId.get(a.alertId) ?? []), a]);
  const twice = [...byId].filter(([, list]) => list.length > 1).map(([id]) => id);
  assert.deepEqual(twice, [], 'no alert twice in the log');
  assert.equal(read.length, sent.length, 'records in the log');
  for (const a of sent) {
    const got = byId.get(a.alertId)?.[0];
    assert.ok(got !== undefined, `alert ${a.alertId} is not in the log`);
    assert.ok(Buffer.from(got.wire).equals(a.datum), `alert ${a.alertId} is in the log with other bytes than it was sent with`);
  }
}

function runUntilCaughtUp(setup: Stream2ScienceSetup, args: string[] = []): { stdout: string; stderr: string } {
  const run = runCli('fink', ['start', 'stream2science', '--until-caught-up', ...args], setup.env);
  assert.equal(run.status, 0, `stream2science failed:\n${run.stdout}\n${run.stderr}`);
  return { stdout: run.stdout, stderr: run.stderr };
}

function storedLine(stdout: string): { alerts: number; messages: number } {
  const m = /stored (\d+) alerts from (\d+) upstream messages/.exec(stdout);
  assert.ok(m, `no summary line in:\n${stdout}`);
  return { alerts: Number(m[1]), messages: Number(m[2]) };
}

describe('fink start stream2science into the science log', { timeout: 1_200_000 }, () => {
  test('a ZTF night: every alert once in the log, its bytes as sent; the positions in the compacted topic; a second run reads nothing again', async (t) => {
    const topic = 'logz_20260120_programid1';
    const sent = simulatedZtfAlerts(300, 21, '20260120');
    await produceUpstream(cluster, topic, sent.map((a) => a.message), { partitions: 3 });
    const setup = logSetup('logz_20260120_.*', 'night_');
    const first = runUntilCaughtUp(setup);
    assert.deepEqual(storedLine(first.stdout), { alerts: 300, messages: 300 }, first.stderr);
    assert.match(first.stderr, /into="the science log \(topics night_<survey>, positions in _fink_stream2science_positions\)/);
    await assertLoggedOnce('night_', sent);
    // The positions, read back as stream2science reads them: each partition's next offset, epoch 0.
    const group = setup.env.UPSTREAM_GROUP_ID!;
    const positions = await readLogPositions(connection, POSITIONS, group);
    assert.deepEqual([...positions.values()].map((p) => [p.topic, p.partition, p.next, p.epoch]).sort(), [[topic, 0, 100n, 0], [topic, 1, 100n, 0], [topic, 2, 100n, 0]]);
    // Kafka's own tools read them: the key names the group, topic and partition.
    if (kcatIfInstalled(t, 'the positions topic read by kcat')) {
      const lines = kcatReadCommitted(cluster.bootstrap, POSITIONS, '%k %s').filter((l) => l.startsWith(`["${group}",`));
      assert.ok(lines.includes(`${JSON.stringify([group, topic, 2])} {"next":"100","epoch":0}`), lines.join('\n'));
    }
    // Nothing read twice: the positions, not the log's uniqueness, keep the second run from storing anything.
    assert.deepEqual(storedLine(runUntilCaughtUp(setup).stdout), { alerts: 0, messages: 0 });
    await assertLoggedOnce('night_', sent);
  });

  test('SIGKILLed at random moments while storing bursts of a live stream: every upstream alert exactly once in the log', async (t) => {
    const random = seededRandom(t);
    const topics = ['logz_20260121_programid1', 'logz_20260121_programid2'];
    const setup = logSetup('logz_20260121_.*', 'kill_');
    const all = simulatedZtfAlerts(2400, 22, '20260121');
    const producer = upstreamProducer(cluster);
    let produced = 0;
    let midStream = 0;
    try {
      for (const topic of topics) await producer.send(topic, [], { partitions: 3 });
      for (let kill = 1; produced < all.length; kill++) {
        const child = spawnFink(['start', 'stream2science'], setup.env);
        await child.waitForOutput(/partition assigned/, 'stream2science to assign itself the partitions');
        const burst = all.slice(produced, produced + 400);
        await producer.send(topics[0]!, burst.slice(0, 200).map((a) => a.message), { partitions: 3 });
        await producer.send(topics[1]!, burst.slice(200).map((a) => a.message), { partitions: 3 });
        produced += burst.length;
        const delay = random.below(600);
        await sleep(delay);
        child.child.kill('SIGKILL');
        await child.exited;
        const inLog = (await logged('kill_')).length;
        if (inLog < produced) midStream++;
        t.diagnostic(`kill ${kill}: SIGKILL ${delay} ms after a burst of ${burst.length}; ${produced} produced, ${inLog} in the log`);
      }
    } finally {
      await producer.close();
    }
    t.diagnostic(`${midStream} kills left alerts behind the producer`);
    const last = runUntilCaughtUp(setup);
    const summary = storedLine(last.stdout);
    t.diagnostic(`the last run stored ${summary.alerts} alerts`);
    // Each message the last run read was new: the positions kept every run from reading again what an earlier one committed.
    assert.equal(summary.alerts, summary.messages, last.stderr);
    await assertLoggedOnce('kill_', all);
  });

  test('--reset-to earliest with the log: a new epoch of positions, recorded at once; everything read again', async () => {
    const topic = 'logz_20260122_programid1';
    const sent = simulatedZtfAlerts(20, 23, '20260122');
    await produceUpstream(cluster, topic, sent.map((a) => a.message), { partitions: 2 });
    const setup = logSetup('logz_20260122_.*', 'reset_');
    assert.deepEqual(storedLine(runUntilCaughtUp(setup).stdout), { alerts: 20, messages: 20 });
    const reset = runUntilCaughtUp(setup, ['--reset-to', 'earliest']);
    assert.deepEqual(storedLine(reset.stdout), { alerts: 20, messages: 20 });
    assert.match(reset.stderr, /positions reset.*partitions=2 epoch=1/);
    const positions = await readLogPositions(connection, POSITIONS, setup.env.UPSTREAM_GROUP_ID!);
    assert.deepEqual([...positions.values()].map((p) => [p.partition, p.next, p.epoch]).sort(), [[0, 10n, 1], [1, 10n, 1]]);
    // The log keeps every write (the distribution sends an alert once): each alert is there twice now.
    assert.equal((await logged('reset_')).length, 40);
  });

  test('a second instance of the group (another host, same UPSTREAM_GROUP_ID) fences the first, which stops; every alert once', async () => {
    const topic = 'logz_20260123_programid1';
    const sent = simulatedZtfAlerts(1200, 24, '20260123');
    const setup = logSetup('logz_20260123_.*', 'fence_');
    // The other host: its own state folder (pid file), the same group.
    const other = logSetup('logz_20260123_.*', 'fence_', { UPSTREAM_GROUP_ID: setup.env.UPSTREAM_GROUP_ID! });
    const producer = upstreamProducer(cluster);
    const first = spawnFink(['start', 'stream2science'], setup.env);
    let second: ReturnType<typeof spawnFink> | undefined;
    try {
      await producer.send(topic, sent.slice(0, 600).map((a) => a.message), { partitions: 3 });
      await first.waitForOutput(/partition assigned/, 'the first instance to assign itself the partitions');
      await waitFor('the first instance to store some alerts', async () => (await logged('fence_')).length > 0, { detail: first.output });
      second = spawnFink(['start', 'stream2science'], other.env);
      await second.waitForOutput(/partition assigned/, 'the second instance to assign itself the partitions');
      await producer.send(topic, sent.slice(600).map((a) => a.message), { partitions: 3 });
      // The first one's next commit fails, and its session, opened again, finds the id taken.
      let code: number | null | undefined;
      void first.exited.then((c) => (code = c));
      await waitFor('the first instance to stop', () => code !== undefined, { detail: first.output, timeoutMs: 300_000 });
      assert.equal(code, 1, first.output());
      assert.match(first.output(), /^fink: another producer with transactional id fink-stream2science-test-logz_20260123_ started and fenced this one$/m);
      // Told as what it is, not as an outage upstream.
      assert.doesNotMatch(first.output(), /upstream unavailable/);
      await waitFor('every alert in the log', async () => (await logged('fence_')).length >= sent.length, { detail: second.output, timeoutMs: 300_000 });
      second.child.kill('SIGTERM');
      assert.equal(await second.exited, 0, second.output());
    } finally {
      first.child.kill('SIGKILL');
      second?.child.kill('SIGKILL');
      await producer.close();
    }
    await assertLoggedOnce('fence_', sent);
  });

  test('--replay-dead-letters with the log: the letters that now decode are written to the log', async () => {
    const setup = logSetup('logz_20260125_.*', 'replay_');
    const good = simulatedZtfAlerts(3, 27, '20260125');
    const letter = (offset: number, value: Buffer) => JSON.stringify({ time: new Date().toISOString(), topic: 'logz_20260125_programid1', partition: 0, offset: String(offset), code: 'FINK_TEST', reason: 'a decoder since fixed', value_length: value.length, value_base64: value.toString('base64') });
    mkdirSync(setup.stateDir, { recursive: true });
    const lines = [...good.map((a, i) => letter(i, a.message)), letter(3, Buffer.from('still not an Avro container'))];
    writeFileSync(join(setup.stateDir, 'dead-letters.jsonl'), lines.join('\n') + '\n');
    const run = runCli('fink', ['start', 'stream2science', '--replay-dead-letters'], setup.env);
    assert.equal(run.status, 1, `${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, /replayed 4 dead letters: 3 alerts stored, 0 already stored, 1 still do not decode/);
    await assertLoggedOnce('replay_', good);
  });

  test("the science log's Kafka that does not answer: stream2science says so in one line naming DISTRIBUTION_SERVERS and exits 1", () => {
    const setup = logSetup('logz_20260127_.*', 'away_', { DISTRIBUTION_SERVERS: '127.0.0.1:1' });
    const run = runCli('fink', ['start', 'stream2science', '--until-caught-up'], setup.env);
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stderr, /^fink: the science log's Kafka does not answer at 127\.0\.0\.1:1 .*check DISTRIBUTION_SERVERS/m);
    assert.doesNotMatch(run.stderr, /unexpected error|^ {4}at /m);
  });

  test("the science log's Kafka away under a running stream2science (upstream there): said as the science log's outage, waited out, every alert once", async () => {
    const logCluster = await startTestCluster();
    const topic = 'logz_20260128_programid1';
    const first = simulatedZtfAlerts(100, 28, '20260128');
    const later = simulatedZtfAlerts(100, 29, '20260128');
    const setup = logSetup('logz_20260128_.*', 'away_', { ...logCluster.env });
    const logConnection = kafkaClientOptions(loadConfig({ env: testEnv(logCluster.env) }));
    const inLog = async (): Promise<number> => {
      let n = 0;
      try {
        for await (const m of readTopic(logConnection, scienceTopic('away_', 'ztf'))) if (m.value !== null) n++;
      } catch (err) {
        if (!(err instanceof TopicMissingError)) throw err;
      }
      return n;
    };
    await produceUpstream(cluster, topic, first.map((a) => a.message), { partitions: 2 });
    const child = spawnFink(['start', 'stream2science'], { ...setup.env, UPSTREAM_SERVERS: cluster.bootstrap });
    try {
      await waitFor('the first alerts in the log', async () => (await inLog()) >= first.length, { detail: child.output, timeoutMs: 300_000 });
      await logCluster.killBroker(0);
      await produceUpstream(cluster, topic, later.map((a) => a.message), { partitions: 2 });
      await child.waitForOutput(/msg="the science log (unavailable|failed the transaction)/, "the line of the science log's outage");
      assert.doesNotMatch(child.output(), /msg="upstream unavailable/);
      assert.match(child.output(), new RegExp(`msg="the science log[^\n]*servers=${logCluster.bootstrap.replace(/\./g, '\\.')}`));
      await logCluster.revive();
      await waitFor('the later alerts in the log', async () => (await inLog()) >= first.length + later.length, { detail: child.output, timeoutMs: 300_000 });
      child.child.kill('SIGTERM');
      assert.equal(await child.exited, 0, child.output());
      assert.equal(await inLog(), first.length + later.length, child.output());
    } finally {
      child.child.kill('SIGKILL');
      await logCluster.stop();
    }
  });

  // Last: it restarts the file's cluster (upstream and the log's alike).
  test('the cluster restarted under a running stream2science: it reads its positions back and goes on, every alert once', async () => {
    const topic = 'logz_20260124_programid1';
    const setup = logSetup('logz_20260124_.*', 'restart_');
    const first = simulatedZtfAlerts(300, 25, '20260124');
    const later = simulatedZtfAlerts(300, 26, '20260124');
    await produceUpstream(cluster, topic, first.map((a) => a.message), { partitions: 2 });
    const child = spawnFink(['start', 'stream2science'], setup.env);
    try {
      await waitFor('the first alerts in the log', async () => (await logged('restart_')).length >= first.length, { detail: child.output, timeoutMs: 300_000 });
      await cluster.restart();
      await produceUpstream(cluster, topic, later.map((a) => a.message), { partitions: 2 });
      await waitFor('the alerts sent after the restart in the log', async () => (await logged('restart_')).length >= first.length + later.length, { detail: child.output, timeoutMs: 300_000 });
      child.child.kill('SIGTERM');
      assert.equal(await child.exited, 0, child.output());
    } finally {
      child.child.kill('SIGKILL');
    }
    await assertLoggedOnce('restart_', [...first, ...later]);
  });
});
