// fink start stream2science against a real Kafka: a survey's stream (produced here onto the test
// cluster) into the science database, exactly once, whatever is killed and whenever.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { Consumer } from '@platformatic/kafka';
import { loadConfig } from '../../src/config/config.ts';
import { kafkaClientOptions } from '../../src/kafka/client-options.ts';
import { runCli, spawnFink, testEnv } from '../helpers/cli.ts';
import { haveRealData } from '../helpers/data.ts';
import { withTestCluster, type TestCluster } from '../helpers/kafka.ts';
import { seededRandom } from '../helpers/random.ts';
import { produceUpstream, upstreamProducer, realZtfAlerts, simulatedZtfAlerts, storedDatums, stream2scienceSetup, type Stream2ScienceSetup, type UpstreamAlert } from '../helpers/upstream.ts';
import { waitFor } from '../helpers/wait.ts';

let cluster: TestCluster;

withTestCluster((started) => {
  cluster = started;
});

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

/** Every sent alert stored once, with its bytes as sent, and nothing else. */
function assertStoredOnce(setup: Stream2ScienceSetup, sent: readonly UpstreamAlert[]): void {
  const { rows, byId } = storedDatums(setup.scienceDb);
  const ids = new Set(sent.map((a) => a.alertId));
  assert.equal(ids.size, sent.length, 'the test sends every alert once');
  assert.equal(byId.size, ids.size, 'distinct alerts stored');
  assert.equal(rows, sent.length, 'rows stored');
  for (const a of sent) {
    const datum = byId.get(a.alertId);
    assert.ok(datum !== undefined, `alert ${a.alertId} is not stored`);
    assert.ok(datum.equals(a.datum), `alert ${a.alertId} is stored with other bytes than it was sent with`);
  }
}

async function groupCommitted(setup: Stream2ScienceSetup, topic: string, partitions: number): Promise<bigint[]> {
  const consumer = new Consumer({ clientId: 'test-lag', groupId: setup.env.UPSTREAM_GROUP_ID!, ...kafkaClientOptions(loadConfig({ env: testEnv(cluster.env) })) });
  try {
    return (await consumer.listCommittedOffsets({ topics: [{ topic, partitions: Array.from({ length: partitions }, (_, i) => i) }] })).get(topic) ?? [];
  } finally {
    await consumer.close();
  }
}

describe('fink start stream2science', () => {
  test('a ZTF night from upstream: every alert stored once, its bytes as sent; a second run reads nothing again', async (t) => {
    if (!haveRealData(t)) return;
    const topic = 'ztf_20260110_programid1';
    const sent = [...realZtfAlerts(), ...simulatedZtfAlerts(300, 11, '20260110')];
    await produceUpstream(cluster, topic, sent.map((a) => a.message), { partitions: 3 });
    const setup = stream2scienceSetup(cluster, 'ztf_20260110_.*');
    const firstRun = runUntilCaughtUp(setup);
    const first = storedLine(firstRun.stdout);
    assert.deepEqual(first, { alerts: sent.length, messages: sent.length }, firstRun.stderr);
    assertStoredOnce(setup, sent);
    // The positions come from the science database: nothing is read twice (the uniqueness of
    // candid is not what keeps the second run from storing anything).
    assert.deepEqual(storedLine(runUntilCaughtUp(setup).stdout), { alerts: 0, messages: 0 });
    // And the upstream group knows where stream2science stands (Kafka's tools show its lag).
    const committed = await groupCommitted(setup, topic, 3);
    assert.equal(committed.reduce((s, o) => s + o, 0n), BigInt(sent.length), `group offsets ${committed.join(',')}:\n${firstRun.stderr}`);
  });

  test('a message that does not decode goes to the dead-letter file (topic, partition, offset, reason) and the stream goes on', async () => {
    const topic = 'ztf_20260111_programid1';
    const good = simulatedZtfAlerts(3, 12, '20260111');
    const truncated = good[0]!.message.subarray(0, good[0]!.message.length - 40);
    const values = [good[0]!.message, Buffer.from('not an Avro container at all'), good[1]!.message, truncated, good[2]!.message];
    await produceUpstream(cluster, topic, values);
    const setup = stream2scienceSetup(cluster, 'ztf_20260111_.*');
    const run = runUntilCaughtUp(setup);
    assert.deepEqual(storedLine(run.stdout), { alerts: 3, messages: 5 });
    assert.match(run.stdout, /2 messages did not decode/);
    assertStoredOnce(setup, good);
    const letters = readFileSync(join(setup.stateDir, 'dead-letters.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(letters.map((l) => [l.topic, l.partition, l.offset]), [[topic, 0, '1'], [topic, 0, '3']]);
    assert.match(String(letters[0]!.reason), /not an Avro container file/);
    assert.match(String(letters[1]!.reason), /truncated|corrupt/);
    assert.match(run.stderr, /dead letter.*offset=1/);
    // Recorded once: a second run does not read them again.
    runUntilCaughtUp(setup);
    assert.equal(readFileSync(join(setup.stateDir, 'dead-letters.jsonl'), 'utf8').trim().split('\n').length, 2);
  });
});

describe('fink start stream2science under kills, resets and new topics', () => {
  test('SIGKILLed at random moments while storing bursts of a live stream: every upstream alert stored exactly once', async (t) => {
    const random = seededRandom(t);
    const topics = ['ztf_20260112_programid1', 'ztf_20260112_programid2'];
    const setup = stream2scienceSetup(cluster, 'ztf_20260112_.*');
    const all = simulatedZtfAlerts(2400, 13, '20260112');
    const producer = upstreamProducer(cluster);
    let produced = 0;
    let midStream = 0;
    try {
      // The topics exist from the start, so that every life assigns itself their partitions.
      for (const topic of topics) await producer.send(topic, [], { partitions: 3 });
      // Six lives: each gets a burst of the survey's alerts and is killed while it stores them
      // (or, as the random delay has it, just before or after).
      for (let kill = 1; produced < all.length; kill++) {
        const child = spawnFink(['start', 'stream2science'], setup.env);
        await child.waitForOutput(/partition assigned/, 'stream2science to assign itself the partitions');
        const burst = all.slice(produced, produced + 400);
        await producer.send(topics[0]!, burst.slice(0, 200).map((a) => a.message), { partitions: 3 });
        await producer.send(topics[1]!, burst.slice(200).map((a) => a.message), { partitions: 3 });
        produced += burst.length;
        const delay = random.below(300);
        await sleep(delay);
        child.child.kill('SIGKILL');
        await child.exited;
        const stored = storedDatums(setup.scienceDb).rows;
        if (stored < produced) midStream++;
        t.diagnostic(`kill ${kill}: SIGKILL ${delay} ms after a burst of ${burst.length}; ${produced} produced, ${stored} stored`);
      }
    } finally {
      await producer.close();
    }
    t.diagnostic(`${midStream} kills left alerts behind the producer`);
    const last = runUntilCaughtUp(setup);
    const summary = storedLine(last.stdout);
    // Each message the last run read was new: the positions, not the uniqueness of candid, kept
    // every run from reading again what an earlier one had committed.
    assert.equal(summary.alerts, summary.messages, last.stderr);
    assertStoredOnce(setup, all);
  });

  test('--reset-to latest, a time, and earliest position every partition (the positions recorded at once)', async () => {
    const topic = 'ztf_20260113_programid1';
    const alerts = simulatedZtfAlerts(30, 14, '20260113');
    const [a, b, c] = [alerts.slice(0, 10), alerts.slice(10, 20), alerts.slice(20)];
    const producer = upstreamProducer(cluster);
    try {
      await producer.send(topic, a.map((x) => x.message), { partitions: 2, timestamp: new Date('2026-01-13T01:00:00Z') });
      await producer.send(topic, b.map((x) => x.message), { partitions: 2, timestamp: new Date('2026-01-13T05:00:00Z') });
      const setup = stream2scienceSetup(cluster, 'ztf_20260113_.*');
      // latest: what is there now is skipped; only what comes after is stored.
      assert.deepEqual(storedLine(runUntilCaughtUp(setup, ['--reset-to', 'latest']).stdout), { alerts: 0, messages: 0 });
      await producer.send(topic, c.map((x) => x.message), { partitions: 2 });
      assert.deepEqual(storedLine(runUntilCaughtUp(setup).stdout), { alerts: 10, messages: 10 });
      assertStoredOnce(setup, c);
      // A time: from the first message at or after it (b, then c again, which is stored once).
      const toTime = runUntilCaughtUp(setup, ['--reset-to', '2026-01-13T03:00:00Z']);
      assert.deepEqual(storedLine(toTime.stdout), { alerts: 10, messages: 20 });
      assert.match(toTime.stderr, /positions reset.*to=2026-01-13T03:00:00.000Z partitions=2/);
      assertStoredOnce(setup, [...b, ...c]);
      // earliest: everything again, a stored once.
      assert.deepEqual(storedLine(runUntilCaughtUp(setup, ['--reset-to', 'earliest']).stdout), { alerts: 10, messages: 30 });
      assertStoredOnce(setup, alerts);
      // A reset is recorded before anything is read: a run killed right after it resumes from there.
      runUntilCaughtUp(setup, ['--reset-to', '20260113']);
      assert.deepEqual(storedLine(runUntilCaughtUp(setup).stdout), { alerts: 0, messages: 0 });
      const bad = runCli('fink', ['start', 'stream2science', '--reset-to', 'yesterday'], setup.env);
      assert.equal(bad.status, 2);
      assert.match(bad.stderr, /--reset-to: 'yesterday' is not earliest, latest or a date/);
    } finally {
      await producer.close();
    }
  });

  test('a topic created after start that matches the pattern is picked up; fink stop stream2science stops it', async () => {
    const setup = stream2scienceSetup(cluster, 'late_ztf_.*', { UPSTREAM_METRICS_PORT: '0' });
    const first = simulatedZtfAlerts(20, 15, '20260114');
    const second = simulatedZtfAlerts(20, 16, '20260115');
    await produceUpstream(cluster, 'late_ztf_20260114', first.map((a) => a.message));
    const child = spawnFink(['start', 'stream2science'], setup.env);
    try {
      await waitFor('the first topic stored', () => storedDatums(setup.scienceDb).rows === 20, { detail: child.output });
      await produceUpstream(cluster, 'late_ztf_20260115', second.map((a) => a.message), { partitions: 2 });
      await waitFor('the new topic stored', () => storedDatums(setup.scienceDb).rows === 40, { detail: child.output });
      assertStoredOnce(setup, [...first, ...second]);
      assert.match(child.output(), /msg="partition assigned" topic=late_ztf_20260115 partition=1 from=0 by=earliest/);
      // The Prometheus endpoint: alerts, messages per topic, lag per partition (none left), dead letters.
      const url = /msg="metrics served" url=(\S+)/.exec(child.output())?.[1];
      assert.ok(url !== undefined, child.output());
      // The counters follow the commit by a moment.
      const metrics = await waitFor('the metrics to count 40 alerts', async () => {
        const text = await (await fetch(url)).text();
        return /^fink_stream2science_alerts_total 40$/m.test(text) ? text : undefined;
      });
      assert.match(metrics, /^fink_stream2science_messages_total\{topic="late_ztf_20260115"\} 20$/m);
      assert.match(metrics, /^fink_stream2science_lag_messages\{topic="late_ztf_20260115",partition="1"\} 0$/m);
      assert.match(metrics, /^fink_stream2science_dead_letters_total 0$/m);
      const stop = runCli('fink', ['stop', 'stream2science'], setup.env);
      assert.equal(stop.status, 0, stop.stderr);
      assert.match(stop.stdout, /stopped the stream2science \(pid \d+\)/);
      assert.equal(await child.exited, 0, child.output());
      assert.match(child.output(), /stored 40 alerts from 40 upstream messages/);
    } finally {
      child.child.kill('SIGKILL');
    }
  });

  test('an upstream that does not answer: a one-off run says so in one line and exits 1', () => {
    const setup = stream2scienceSetup(cluster, 'ztf_.*', { UPSTREAM_SERVERS: '127.0.0.1:1' });
    const run = runCli('fink', ['start', 'stream2science', '--until-caught-up'], setup.env);
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stderr, /^fink: the upstream Kafka does not answer at 127\.0\.0\.1:1 .*check UPSTREAM_SERVERS/m);
  });

  test('UPSTREAM_TOPICS that match nothing (a typo): a one-off run exits 1 with the line naming the topics there', async () => {
    await produceUpstream(cluster, 'typo_ztf_20260117', simulatedZtfAlerts(2, 19, '20260117').map((a) => a.message));
    const setup = stream2scienceSetup(cluster, 'ztf_typo_.*');
    const run = runCli('fink', ['start', 'stream2science', '--until-caught-up'], setup.env);
    assert.equal(run.status, 1, `${run.stdout}\n${run.stderr}`);
    assert.match(run.stderr, /^fink: no upstream topic matches UPSTREAM_TOPICS \(ztf_typo_\.\*\) with a format; the topics upstream: .*typo_ztf_20260117/m);
  });

  test('UPSTREAM_TOPICS that match nothing: a running stream2science says so from the start, with the topics there', async () => {
    await produceUpstream(cluster, 'typo_ztf_20260117', simulatedZtfAlerts(2, 19, '20260117').map((a) => a.message));
    const setup = stream2scienceSetup(cluster, 'ztf_typo2_.*');
    const child = spawnFink(['start', 'stream2science'], setup.env);
    try {
      await waitFor('the line that nothing matches', () => /no upstream topic matches UPSTREAM_TOPICS \(ztf_typo2_\.\*\).*typo_ztf_20260117/.test(child.output()), { detail: child.output });
      child.child.kill('SIGTERM');
      assert.equal(await child.exited, 0, child.output());
    } finally {
      child.child.kill('SIGKILL');
    }
  });

  // Last: it restarts the file's cluster.
  test('the upstream cluster restarted under a running stream2science: it goes on, every alert once', async () => {
    const setup = stream2scienceSetup(cluster, 'restart_ztf_.*');
    const before = simulatedZtfAlerts(100, 17, '20260116');
    const later = simulatedZtfAlerts(100, 18, '20260116');
    await produceUpstream(cluster, 'restart_ztf_20260116', before.map((a) => a.message), { partitions: 2 });
    const child = spawnFink(['start', 'stream2science'], setup.env);
    try {
      await waitFor('the first alerts stored', () => storedDatums(setup.scienceDb).rows === 100, { detail: child.output });
      await cluster.restart();
      await produceUpstream(cluster, 'restart_ztf_20260116', later.map((a) => a.message), { partitions: 2 });
      await waitFor('the alerts sent after the restart stored', () => storedDatums(setup.scienceDb).rows === 200, { detail: child.output });
      assertStoredOnce(setup, [...before, ...later]);
      child.child.kill('SIGTERM');
      assert.equal(await child.exited, 0, child.output());
      assert.match(child.output(), /stored 200 alerts from 200 upstream messages/);
    } finally {
      child.child.kill('SIGKILL');
    }
  });
});
