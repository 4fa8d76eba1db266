// fink start stream2science against a real Kafka: a survey's stream (produced here onto the test
// cluster) into the science database, exactly once, whatever is killed and whenever.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Consumer } from '@platformatic/kafka';
import { loadConfig } from '../../src/config/config.ts';
import { kafkaClientOptions } from '../../src/kafka/client-options.ts';
import { runCli, spawnFink, testEnv } from '../helpers/cli.ts';
import { haveRealData } from '../helpers/data.ts';
import { startTestCluster, type TestCluster } from '../helpers/kafka.ts';
import { seededRandom } from '../helpers/random.ts';
import { produceUpstream, realZtfAlerts, simulatedZtfAlerts, storedDatums, stream2scienceSetup, type Stream2ScienceSetup, type UpstreamAlert } from '../helpers/upstream.ts';
import { waitFor } from '../helpers/wait.ts';

let cluster: TestCluster;

before(async () => {
  cluster = await startTestCluster();
});

after(async () => {
  await cluster?.stop();
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
