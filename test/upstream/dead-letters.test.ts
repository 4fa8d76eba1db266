// Schema ids the registry does not know yet: a Rubin-framed topic on a real Kafka whose schema id a
// real HTTP registry (node:http on 127.0.0.1) does not know at first (Confluent's 40403), then
// knows. Dead letters keep their message, bounded, and are replayed once their cause is fixed; an
// id still being asked for holds up its own partition only.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { encodeConfluent } from '../../src/avro/confluent-wire.ts';
import { createSimulation } from '../../src/sciencedb/simulate.ts';
import { readDeadLetters, recordDeadLetter } from '../../src/upstream/dead-letters.ts';
import { runFink, spawnFink } from '../helpers/cli.ts';
import { startSchemaServer, type SchemaServer } from '../helpers/schema-server.ts';
import { waitFor } from '../helpers/wait.ts';
import { startTestCluster, type TestCluster } from '../helpers/kafka.ts';
import { tempDir } from '../helpers/temp.ts';
import { produceUpstream, simulatedZtfAlerts, storedDatums, stream2scienceSetup } from '../helpers/upstream.ts';

let cluster: TestCluster;
let registry: SchemaServer;
/** The registry's schemas by id, once "registered". */
const registered = new Map<number, string>();

before(async () => {
  cluster = await startTestCluster();
  registry = await startSchemaServer(registered);
});
after(async () => {
  await registry?.close();
  await cluster?.stop();
});

test('a dead letter keeps its message; --replay-dead-letters stores it once its schema is known, and a second replay stores nothing twice', async () => {
  const alerts = simulatedZtfAlerts(6, 31, '20260121');
  const schema = JSON.stringify(createSimulation({ profile: 'ztf-light', seed: 31, night: '20260121' }).fullSchema);
  const messages = alerts.map((a) => encodeConfluent(7, a.datum));
  await produceUpstream(cluster, 'late_schema_alerts', messages);
  const setup = stream2scienceSetup(cluster, 'late_schema_alerts', { UPSTREAM_FORMAT: 'lsst', UPSTREAM_SCHEMA_REGISTRY: registry.url, UPSTREAM_SCHEMA_RETRIES: '0' });
  const first = await runFink(['start', 'stream2science', '--until-caught-up'], setup.env);
  assert.equal(first.status, 0, first.output);
  assert.match(first.output, /stored 0 alerts from 6 upstream messages/);
  const letters = readDeadLetters(join(setup.stateDir, 'dead-letters.jsonl'));
  assert.equal(letters.length, 6);
  assert.equal(letters[0]!.code, 'FINK_UNKNOWN_SCHEMA');
  assert.deepEqual(letters.map((l) => l.value?.toString('hex')), messages.map((m) => m.toString('hex')));
  registered.set(7, schema);
  const replay = await runFink(['start', 'stream2science', '--replay-dead-letters'], setup.env);
  assert.equal(replay.status, 0, replay.output);
  assert.match(replay.output, /replayed 6 dead letters: 6 alerts stored, 0 already stored, 0 still do not decode/);
  const { rows, byId } = storedDatums(setup.scienceDb);
  assert.equal(rows, 6);
  for (const a of alerts) assert.ok(byId.get(a.alertId)?.equals(a.datum), `alert ${a.alertId} stored with its bytes`);
  const again = await runFink(['start', 'stream2science', '--replay-dead-letters'], setup.env);
  assert.match(again.output, /replayed 6 dead letters: 0 alerts stored, 6 already stored/);
  assert.equal(storedDatums(setup.scienceDb).rows, 6);
});

test('an id the registry does not know yet holds up its own partition only: the other topic is stored meanwhile, its own once the id is known', async () => {
  const waiting = simulatedZtfAlerts(5, 32, '20260122');
  const schema = JSON.stringify(createSimulation({ profile: 'ztf-light', seed: 32, night: '20260122' }).fullSchema);
  const others = simulatedZtfAlerts(20, 33, '20260122');
  await produceUpstream(cluster, 'held_lsst_alerts', waiting.map((a) => encodeConfluent(9, a.datum)));
  await produceUpstream(cluster, 'held_ztf_alerts', others.map((a) => a.message));
  const setup = stream2scienceSetup(cluster, 'held_.*', { UPSTREAM_FORMAT: 'held_lsst_.*=lsst,held_ztf_.*=ztf', UPSTREAM_SCHEMA_REGISTRY: registry.url, UPSTREAM_SCHEMA_RETRIES: '1000' });
  const child = spawnFink(['start', 'stream2science'], setup.env);
  try {
    await waitFor('the other topic stored while schema id 9 is unknown', () => storedDatums(setup.scienceDb).rows === 20, { detail: child.output });
    await child.waitForOutput(/schema id unknown to the registry: asking again/, 'the id asked again');
    assert.equal(storedDatums(setup.scienceDb).rows, 20, 'none of the held partition stored yet');
    registered.set(9, schema);
    await waitFor('the held partition stored once its schema is known', () => storedDatums(setup.scienceDb).rows === 25, { detail: child.output });
    const { byId } = storedDatums(setup.scienceDb);
    for (const a of [...waiting, ...others]) assert.ok(byId.get(a.alertId)?.equals(a.datum), `alert ${a.alertId} stored with its bytes`);
    assert.equal(existsSync(join(setup.stateDir, 'dead-letters.jsonl')), false);
    child.child.kill('SIGTERM');
    assert.equal(await child.exited, 0, child.output());
  } finally {
    child.child.kill('SIGKILL');
  }
});

test('the dead-letter file is rotated at its size, N old files kept; a value over the cap is kept by its length only', () => {
  const file = join(tempDir('dead-letters'), 'dead-letters.jsonl');
  const limits = { maxValueBytes: 100, maxFileBytes: 2000, keep: 2 };
  for (let i = 0; i < 60; i++) recordDeadLetter(file, { topic: 't', partition: 0, offset: BigInt(i), code: 'FINK_DATUM', reason: 'bad', value: Buffer.alloc(i % 2 === 0 ? 90 : 500, i) }, limits);
  for (const name of [file, `${file}.1`, `${file}.2`]) assert.ok(statSync(name).size <= 2000, name);
  assert.equal(existsSync(`${file}.3`), false);
  const kept = readDeadLetters(file, 2);
  assert.equal(kept.at(-1)!.offset, '59');
  assert.ok(kept.length < 60);
  const last = JSON.parse(readFileSync(file, 'utf8').trim().split('\n').at(-1)!) as Record<string, unknown>;
  assert.equal(last.value_length, 500);
  assert.equal(last.value_base64, undefined);
  assert.ok(kept.find((l) => l.offset === '58')?.value?.equals(Buffer.alloc(90, 58)));
});
