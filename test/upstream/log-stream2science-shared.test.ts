// stream2science's shared mode (UPSTREAM_INSTANCE_ID, SCIENCE_STORE=kafka) against a real Kafka:
// instances of one upstream group share its partitions as the group's coordinator assigns them,
// each partition written with a transactional id of its own. An independent read_committed reader
// of the log finds every upstream alert exactly once, with two instances at work and with one of
// them SIGKILLed under load; a writer of a partition whose new owner opened its writer cannot
// commit; and the mode is refused without the science log.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config/config.ts';
import { closeQuietly, kafkaClientOptions, type KafkaConnection } from '../../src/kafka/client-options.ts';
import { classifyKafkaError } from '../../src/kafka/errors.ts';
import { newPartitionReader } from '../../src/kafka/topic-reader.ts';
import { TRANSACTION_TIMEOUT_MS } from '../../src/kafka/transactional-producer.ts';
import { FencedError } from '../../src/kafka/transactional-session.ts';
import type { LoggedAlert } from '../../src/sciencedb/log-format.ts';
import { loggedAlerts } from '../helpers/science-log.ts';
import { positionRecordKey, positionRecordValue, readLogPositions } from '../../src/sciencedb/log-positions.ts';
import { scienceLogSettings, type ScienceLogSettings } from '../../src/sciencedb/log-settings.ts';
import { partitionTransactionalId, SharedLogPositionStore } from '../../src/sciencedb/log-shared-positions.ts';
import { ScienceLogWriter } from '../../src/sciencedb/log-writer.ts';
import { createSimulation } from '../../src/sciencedb/simulate.ts';
import type { NewAlert } from '../../src/sciencedb/store.ts';
import { groupOffsets } from '../../src/upstream/offsets.ts';
import { runCli, spawnFink, testEnv, type FinkProcess } from '../helpers/cli.ts';
import { withTestCluster, type TestCluster } from '../helpers/kafka.ts';
import { simulatedZtfAlerts, stream2scienceSetup, upstreamProducer, type UpstreamAlert, type UpstreamProducer } from '../helpers/upstream.ts';
import { waitFor } from '../helpers/wait.ts';

const POSITIONS = '_fink_stream2science_positions';
/** Generous: two instances, a broker and the test share two cores with the other helpers' work. */
const LONG = { timeoutMs: 600_000, everyMs: 500 };

let cluster: TestCluster;
let connection: KafkaConnection;

withTestCluster((started) => {
  cluster = started;
  connection = kafkaClientOptions(loadConfig({ env: testEnv(cluster.env) }));
});

/** An instance of the shared group `group`: a state folder of its own, the log under `prefix`. */
function startInstance(topics: string, prefix: string, group: string, instance: string): FinkProcess {
  const setup = stream2scienceSetup(cluster, topics, { SCIENCE_STORE: 'kafka', SCIENCE_TOPIC_PREFIX: prefix, SCIENCE_PARTITIONS: '3', UPSTREAM_GROUP_ID: group });
  return spawnFink(['start', 'stream2science', '--instance', instance], setup.env);
}

/** Every ZTF alert of the log under `prefix`, as a read_committed reader finds them. */
const logged = (prefix: string): Promise<LoggedAlert[]> => loggedAlerts(connection, prefix, 'ztf');

/** Every sent alert once in the log, its bytes as sent, and nothing else. */
async function assertLoggedOnce(prefix: string, sent: readonly UpstreamAlert[]): Promise<void> {
  const read = await logged(prefix);
  const byId = new Map<bigint, number>();
  for (const a of read) byId.set(a.alertId, (byId.get(a.alertId) ?? 0) + 1);
  assert.deepEqual([...byId].filter(([, n]) => n > 1).map(([id]) => id), [], 'no alert twice in the log');
  assert.equal(read.length, sent.length, 'records in the log');
  const wire = new Map(read.map((a) => [a.alertId, Buffer.from(a.wire)]));
  for (const a of sent) assert.ok(wire.get(a.alertId)?.equals(a.datum), `alert ${a.alertId} is not in the log as it was sent`);
}

/** The partitions each "upstream partitions of this instance" line of an instance's output says it holds, in order. */
function heldLines(output: string): string[][] {
  return [...output.matchAll(/msg="upstream partitions of this instance".*? held=("[^"]*"|\S+)/g)].map((m) => {
    const text = m[1]!.startsWith('"') ? (JSON.parse(m[1]!) as string) : m[1]!;
    return text === '' ? [] : text.split(',');
  });
}

/** What an instance said it holds last (nothing before it joined). */
function lastHeld(instance: FinkProcess): string[] {
  return heldLines(instance.output()).at(-1) ?? [];
}

/** Waits until every upstream partition's position in the log is at `end` (the group's). */
async function positionsAt(group: string, topics: readonly string[], partitions: number, end: bigint): Promise<void> {
  await waitFor(`every position of ${group} at ${end}`, async () => {
    const positions = await readLogPositions(connection, POSITIONS, group);
    return topics.every((t) => Array.from({ length: partitions }, (_, p) => p).every((p) => positions.get(`${t}\u0000${p}`)?.next === end));
  }, LONG);
}

/**
 * A live stream: alerts[from, to) in sends of 60 (20 per partition), the two topics in turn by the
 * send's place in `alerts` (so that streams in pieces fill the partitions alike), paced
 * so that the instances are mid-round when the test acts on them.
 */
async function stream(producer: UpstreamProducer, topics: readonly string[], alerts: readonly UpstreamAlert[], from: number, to: number): Promise<void> {
  for (let at = from; at < to; at += 60) {
    await producer.send(topics[Math.floor(at / 60) % 2]!, alerts.slice(at, Math.min(at + 60, to)).map((x) => x.message), { partitions: 3 });
    await sleep(100);
  }
}

/** Waits until the upstream group's committed offsets (for Kafka's lag tools) are `end` on every partition. */
async function groupCommittedAt(group: string, topics: readonly string[], end: bigint): Promise<void> {
  const reader = newPartitionReader(connection, 'fink-test-lag', group);
  try {
    const parts = topics.flatMap((topic) => [0, 1, 2].map((partition) => ({ topic, partition })));
    await waitFor(`the committed offsets of ${group} at ${end}`, async () => {
      const committed = await groupOffsets(reader, parts);
      return parts.every((p) => committed.get(p.topic)?.[p.partition] === end);
    }, LONG);
  } finally {
    await closeQuietly(reader);
  }
}

async function stop(instance: FinkProcess): Promise<void> {
  if (instance.child.exitCode === null) instance.child.kill('SIGTERM');
  await instance.exited;
}

describe('stream2science instances sharing one upstream group (the science log)', { timeout: 1_800_000 }, () => {
  test('two instances over a live stream: each holds partitions, every upstream alert exactly once in the log, the group\'s committed offsets at the end', async (t) => {
    const topics = ['sharez_20260130_programid1', 'sharez_20260130_programid2'];
    const all = simulatedZtfAlerts(1200, 31, '20260130');
    const producer = upstreamProducer(cluster);
    const a = startInstance('sharez_20260130_.*', 'share_', 'g-share', 'host-a');
    let b: FinkProcess | undefined;
    try {
      for (const topic of topics) await producer.send(topic, [], { partitions: 3 });
      await a.waitForOutput(/upstream partitions of this instance/, 'the first instance to join the group');
      // The stream flows while the second instance joins and the group rebalances.
      await producer.send(topics[0]!, all.slice(0, 300).map((x) => x.message), { partitions: 3 });
      b = startInstance('sharez_20260130_.*', 'share_', 'g-share', 'host-b');
      await producer.send(topics[1]!, all.slice(300, 600).map((x) => x.message), { partitions: 3 });
      await waitFor('the second instance to hold partitions', () => heldLines(b!.output()).some((h) => h.length > 0), { ...LONG, detail: () => b!.output() });
      await producer.send(topics[0]!, all.slice(600, 900).map((x) => x.message), { partitions: 3 });
      await producer.send(topics[1]!, all.slice(900).map((x) => x.message), { partitions: 3 });
      await positionsAt('g-share', topics, 3, 200n);
      await waitFor('every alert in the log', async () => (await logged('share_')).length >= all.length, LONG);
      // The members commit to the upstream group with their generation (a simple consumer's commit is refused by a group with members).
      await groupCommittedAt('g-share', topics, 200n);
      for (const [name, instance] of [['host-a', a], ['host-b', b]] as const) {
        const held = heldLines(instance.output());
        t.diagnostic(`${name}: ${held.map((h) => h.join(',') || '-').join(' | ')}`);
        assert.ok(held.some((h) => h.length > 0), `${name} held no partition:\n${instance.output()}`);
      }
      // The two held the partitions apart at the end: none of them twice, none missing.
      const last = [...lastHeld(a), ...lastHeld(b)].sort();
      assert.deepEqual(last, topics.flatMap((topic) => [0, 1, 2].map((p) => `${topic}/${p}`)).sort());
    } finally {
      await producer.close();
      await stop(a);
      if (b !== undefined) await stop(b);
    }
    await assertLoggedOnce('share_', all);
  });

  test('one of two instances SIGKILLed under load: the other takes its partitions, every alert still exactly once', async (t) => {
    const topics = ['killz_20260131_programid1', 'killz_20260131_programid2'];
    const all = simulatedZtfAlerts(1800, 32, '20260131');
    const producer = upstreamProducer(cluster);
    const a = startInstance('killz_20260131_.*', 'skill_', 'g-kill', 'host-a');
    const b = startInstance('killz_20260131_.*', 'skill_', 'g-kill', 'host-b');
    try {
      for (const topic of topics) await producer.send(topic, [], { partitions: 3 });
      await waitFor('both instances to hold partitions', () => lastHeld(a).length > 0 && lastHeld(b).length > 0 && lastHeld(a).length + lastHeld(b).length === 6, { ...LONG, detail: () => `${a.output()}\n---\n${b.output()}` });
      const victimParts = lastHeld(b);
      // Killed while the stream flows: the survivor's share and the dead one's keep arriving.
      let produced = 0;
      const flowing = (async () => {
        for (let at = 0; at < all.length; at += 300) {
          await stream(producer, topics, all, at, at + 300);
          produced = at + 300;
        }
      })();
      await waitFor('the instances to be storing', async () => (await logged('skill_')).length >= 100, LONG);
      b.child.kill('SIGKILL');
      await b.exited;
      const atKill = (await logged('skill_')).length;
      t.diagnostic(`SIGKILLed host-b holding ${victimParts.join(',')} with ${atKill} in the log and about ${produced} of ${all.length} produced`);
      await flowing;
      await waitFor('the survivor to take the dead instance\'s partitions', () => lastHeld(a).length === 6, { ...LONG, detail: () => a.output() });
      await positionsAt('g-kill', topics, 3, 300n);
      await waitFor('every alert in the log', async () => (await logged('skill_')).length >= all.length, LONG);
    } finally {
      await producer.close();
      await stop(a);
      if (b.child.exitCode === null && b.child.signalCode === null) await stop(b);
    }
    await assertLoggedOnce('skill_', all);
  });

  test('an instance frozen (SIGSTOP) past its session timeout under load, then thawed: its partitions moved, what it had in hand is not written again, every alert exactly once', async (t) => {
    const topics = ['stopz_20260202_programid1', 'stopz_20260202_programid2'];
    const all = simulatedZtfAlerts(3000, 34, '20260202');
    const producer = upstreamProducer(cluster);
    const a = startInstance('stopz_20260202_.*', 'sstop_', 'g-stop', 'host-a');
    const b = startInstance('stopz_20260202_.*', 'sstop_', 'g-stop', 'host-b');
    try {
      for (const topic of topics) await producer.send(topic, [], { partitions: 3 });
      await waitFor('both instances to hold partitions', () => lastHeld(a).length > 0 && lastHeld(b).length > 0 && lastHeld(a).length + lastHeld(b).length === 6, { ...LONG, detail: () => `${a.output()}\n---\n${b.output()}` });
      // Frozen while the stream flows: it is mid-round, with messages fetched and not yet committed.
      const flowing = stream(producer, topics, all, 0, 1200);
      await waitFor('the instances to be storing', async () => (await logged('sstop_')).length >= 100, LONG);
      b.child.kill('SIGSTOP');
      await flowing;
      await stream(producer, topics, all, 1200, 1800);
      // The group gives its partitions to the other, which reads them on from their positions.
      await waitFor('the other instance to take the frozen one\'s partitions', () => lastHeld(a).length === 6, { ...LONG, detail: () => a.output() });
      await positionsAt('g-stop', topics, 3, 300n);
      const heldBefore = heldLines(b.output()).length;
      b.child.kill('SIGCONT');
      await stream(producer, topics, all, 1800, 3000);
      await positionsAt('g-stop', topics, 3, 500n);
      await waitFor('every alert in the log', async () => (await logged('sstop_')).length >= all.length, LONG);
      const thawed = b.output().split('\n').filter((l) => /fenced|taken by another instance/.test(l));
      t.diagnostic(`after the thaw host-b held ${heldLines(b.output()).length - heldBefore} new assignments and said ${thawed.length} lines of fencing: ${thawed.map((l) => /msg="[^"]*"/.exec(l)?.[0] ?? l).join('; ')}`);
    } finally {
      await producer.close();
      if (b.child.exitCode === null) b.child.kill('SIGCONT');
      await stop(a);
    }
    // The thawed instance went on (fenced on what it had lost, not stopped by it).
    b.child.kill('SIGTERM');
    assert.equal(await b.exited, 0, b.output());
    await assertLoggedOnce('sstop_', all);
  });

  test('shared mode without the science log is refused in one line naming UPSTREAM_INSTANCE_ID (exit 2), as is --reset-to with it', () => {
    const setup = stream2scienceSetup(cluster, 'refused_.*');
    for (const [args, env] of [[['--instance', 'host-a'], {}], [[], { UPSTREAM_INSTANCE_ID: 'host-a' }]] as const) {
      const run = runCli('fink', ['start', 'stream2science', ...args], { ...setup.env, ...env });
      assert.equal(run.status, 2, run.stderr);
      // The line, then the usage errors' pointer to --help, and nothing else.
      const lines = run.stderr.trim().split('\n').filter((l) => l.trim() !== '');
      assert.match(lines[0]!, /^fink: UPSTREAM_INSTANCE_ID \(host-a\) shares the upstream partitions between instances, which needs the science log: set SCIENCE_STORE=kafka/);
      assert.deepEqual(lines.slice(1), ["(see 'fink --help')"]);
    }
    const reset = runCli('fink', ['start', 'stream2science', '--instance', 'host-a', '--reset-to', 'earliest'], { ...setup.env, SCIENCE_STORE: 'kafka' });
    assert.equal(reset.status, 2, reset.stderr);
    assert.match(reset.stderr, /--reset-to moves every partition of the group, and instance host-a holds only some/);
  });
});

describe('a partition\'s writer in shared mode', () => {
  let settings: ScienceLogSettings;
  before(() => {
    settings = scienceLogSettings(loadConfig({ env: testEnv({ ...cluster.env, SCIENCE_STORE: 'kafka', SCIENCE_TOPIC_PREFIX: 'zombie_', SCIENCE_PARTITIONS: '2' }) }));
  });

  function alerts(count: number, seed: number): NewAlert[] {
    const simulation = createSimulation({ profile: 'ztf-light', seed, night: '20260201' });
    return Array.from({ length: count }, () => simulation.next());
  }

  async function loggedIds(): Promise<bigint[]> {
    return (await logged('zombie_')).map((a) => a.alertId).sort();
  }

  test('a zombie: the old owner of a partition whose new owner opened its writer cannot commit it; its other partition commits; it then drops the fenced one', async () => {
    const [first, doubled, other, next] = [alerts(3, 1), alerts(2, 2), alerts(2, 3), alerts(2, 4)];
    const up0 = { topic: 'up', partition: 0 };
    const up1 = { topic: 'up', partition: 1 };
    const old = new SharedLogPositionStore(settings, 'positions_zombie', 'gz');
    const owner = new SharedLogPositionStore(settings, 'positions_zombie', 'gz');
    try {
      await old.positions();
      await old.take([up0, up1]);
      assert.deepEqual(await old.apply([{ ...up0, next: 3n, alerts: first }], 0), { inserted: 3, transactions: 1 });
      // The group gave up/0 to another instance, which takes it; the old one has not heard yet.
      await owner.positions();
      const taken = await owner.take([up0]);
      assert.deepEqual([...taken.values()], [{ ...up0, next: 3n, epoch: 0 }]);
      await assert.rejects(old.apply([{ ...up0, next: 5n, alerts: doubled }, { ...up1, next: 2n, alerts: other }], 0), (err: unknown) => err instanceof FencedError || classifyKafkaError(err) === 'fenced');
      // What it still holds committed; the partition taken from it is dropped, its position the new owner's.
      assert.deepEqual(await old.afterFailure(), new Map([['up\u00001', { ...up1, next: 2n, epoch: 0 }]]));
      assert.deepEqual(old.takeFenced(), [up0]);
      assert.deepEqual([...old.held()], ['up\u00001']);
      assert.deepEqual(await owner.apply([{ ...up0, next: 5n, alerts: next }], 0), { inserted: 2, transactions: 1 });
      const positions = await readLogPositions(settings.connection, 'positions_zombie', 'gz');
      assert.deepEqual(positions.get('up\u00000')?.next, 5n);
      assert.deepEqual(await loggedIds(), [...first, ...other, ...next].map((a) => a.alertId).sort());
    } finally {
      await old.close();
      await owner.close();
    }
  });

  test('a transaction the old owner left open (killed mid-round) is aborted when the new owner takes the partition, before its position is read', async () => {
    const [kept, lost] = [alerts(2, 5), alerts(3, 6)];
    const up = { topic: 'up-open', partition: 2 };
    const before = await loggedIds();
    const first = new SharedLogPositionStore(settings, 'positions_zombie', 'go');
    await first.positions();
    await first.take([up]);
    await first.apply([{ ...up, next: 2n, alerts: kept }], 0);
    await first.close();
    const dying = new ScienceLogWriter(settings, { role: 'test', transactionalId: partitionTransactionalId('go', up.topic, up.partition) });
    await dying.send(lost, [{ topic: 'positions_zombie', partition: 0, key: positionRecordKey('go', up.topic, up.partition), value: positionRecordValue(5n, 0) }]);
    const next = new SharedLogPositionStore(settings, 'positions_zombie', 'go');
    try {
      await next.positions();
      const started = Date.now();
      const taken = await next.take([up]);
      assert.ok(Date.now() - started < TRANSACTION_TIMEOUT_MS, `taken after ${Date.now() - started} ms`);
      assert.deepEqual([...taken.values()], [{ ...up, next: 2n, epoch: 0 }]);
      assert.deepEqual(await loggedIds(), [...before, ...kept.map((a) => a.alertId)].sort());
      await assert.rejects(dying.commit());
    } finally {
      await next.close();
      await dying.close();
    }
  });
});
