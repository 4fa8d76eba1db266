// `fink start distribution_test` on a topic carrying both wire formats (issue 24): the real ZTF,
// Fink and Rubin alerts of ../shared/data written by the test as fink messages (key: the schema)
// and as Confluent messages (their schemas registered in a real Apicurio registry), side by side on
// one partition of a real broker. Each is told apart and decoded; the saved Avro files hold the
// datums as they were sent; a message whose schema id cannot be resolved is named with its id and
// counted as bad, and the reading goes on.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { encodeConfluent } from '../../src/avro/confluent-wire.ts';
import { readContainer } from '../../src/avro/container.ts';
import { parseAvroType, schemaFingerprint, type RecordSchema } from '../../src/avro/schema.ts';
import { loadConfig } from '../../src/config/config.ts';
import { runCli, testEnv } from '../helpers/cli.ts';
import { interleave, toConfluent } from '../helpers/confluent.ts';
import { haveLsstData, haveRealData } from '../helpers/data.ts';
import { freePortPair, type TestCluster } from '../helpers/kafka.ts';
import { withClusterAndRegistry, type TestRegistry } from '../helpers/registry.ts';
import { tempDir } from '../helpers/temp.ts';
import { lsstMessages, produceMessages, realMessages, schemasOf, writeSchemaFiles, type WireMessage } from '../helpers/wire.ts';

const fingerprintOf = (m: WireMessage) => schemaFingerprint(parseAvroType(JSON.parse(m.key.toString()) as RecordSchema));

/** The datums of an Avro container file, each as its bytes. */
function containerDatums(file: string): Buffer[] {
  const container = readContainer(readFileSync(file));
  const type = parseAvroType(container.schema);
  return [...container.blocks()].flatMap((b) => {
    const out: Buffer[] = [];
    for (let pos = 0; pos < b.data.length;) {
      const { offset } = type.decode(b.data, pos);
      out.push(Buffer.from(b.data.subarray(pos, offset)));
      pos = offset;
    }
    return out;
  });
}

describe('fink start distribution_test on fink and Confluent messages', { timeout: 600_000 }, () => {
  let cluster: TestCluster;
  let registry: TestRegistry;
  let env: Record<string, string>;
  let schemaBase: string;
  withClusterAndRegistry((c, r) => {
    [cluster, registry] = [c, r];
    schemaBase = join(tempDir('confluent-consumer'), 'schemas', 'distribution_schema.avsc');
    env = { ...cluster.env, DISTRIBUTION_SCHEMA: schemaBase };
  });

  /** Fink messages of the real alerts (ZTF, Fink, Rubin), their schema files written, and the same alerts in the Confluent format. */
  async function bothFormats(topic: string): Promise<{ fink: WireMessage[]; confluent: WireMessage[]; ids: Map<string, number> }> {
    const fink = [...realMessages(), ...lsstMessages()];
    writeSchemaFiles(schemaBase, schemasOf(fink));
    const { messages: confluent, ids } = await toConfluent(registry.url, topic, fink);
    return { fink, confluent, ids };
  }

  test('both formats on one partition: every alert decoded, the summary counts each format, the saved Avro files hold every datum as sent', async (t) => {
    if (!haveRealData(t) || !haveLsstData(t)) return;
    const topic = 'both_formats';
    const { fink, confluent, ids } = await bothFormats(topic);
    const messages = interleave(fink, confluent);
    await produceMessages(loadConfig({ env: testEnv(env) }), topic, messages);

    const out = join(tempDir('confluent-saved'), 'alerts.avro');
    const run = runCli('fink', ['start', 'distribution_test', '--topic', topic, '--rows', '0', '--out', out], { ...env, DISTRIBUTION_SCHEMA_REGISTRY: registry.url });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stderr, '');
    assert.match(run.stdout, new RegExp(`${messages.length} alerts read from topic ${topic} in [0-9.]+ s, all decoded \\(${fink.length} fink with their schema files, ${confluent.length} Confluent with their schemas from the registry\\)`));
    // Each schema was met in both formats: its file and its registry ids are named (key texts that
    // differ only in their docs are one schema, registered under two ids).
    for (const [text, id] of ids) {
      const fingerprint = schemaFingerprint(parseAvroType(JSON.parse(text) as RecordSchema));
      const line = run.stdout.split('\n').find((l) => l.startsWith(`  schema ${fingerprint} (`));
      assert.match(line ?? '', new RegExp(`: ${2 * fink.filter((m) => fingerprintOf(m) === fingerprint).length} alerts \\(\\S+-${fingerprint}\\.avsc; .*\\bschema id ${id} of the registry\\b`), run.stdout);
    }

    // One file per schema, both formats in it: each datum twice, in the order sent, the Confluent header not in it.
    const order = [...new Set(fink.map(fingerprintOf))];
    for (const fingerprint of order) {
      const file = fingerprint === order[0] ? out : out.replace('.avro', `-${fingerprint}.avro`);
      const sent = fink.filter((m) => fingerprintOf(m) === fingerprint).flatMap((m) => [m.value, m.value]);
      assert.deepEqual(containerDatums(file), sent, `${file}: the datums as they were sent, in both formats`);
    }
  });

  test('both formats saved as Parquet: one row per alert of either format, 64-bit ids exact', async (t) => {
    if (!haveRealData(t) || !haveLsstData(t)) return;
    const topic = 'both_formats_parquet';
    const rubin = lsstMessages();
    writeSchemaFiles(schemaBase, schemasOf(rubin));
    const { messages: confluent } = await toConfluent(registry.url, topic, rubin);
    await produceMessages(loadConfig({ env: testEnv(env) }), topic, interleave(rubin, confluent));

    const out = join(tempDir('confluent-parquet'), 'alerts.parquet');
    const run = runCli('fink', ['start', 'distribution_test', '--topic', topic, '--rows', '0', '--out', out], { ...env, DISTRIBUTION_SCHEMA_REGISTRY: registry.url });
    assert.equal(run.status, 0, run.stderr);
    const files = [...run.stdout.matchAll(/saved \d+ alerts to (\S+)/g)].map((m) => m[1]!);
    const duck = await import('@duckdb/node-api');
    const db = await duck.DuckDBInstance.create(':memory:');
    const connection = await db.connect();
    try {
      const list = files.map((f) => `'${f}'`).join(', ');
      const rows = (await connection.runAndReadAll(`SELECT diaSourceId FROM read_parquet([${list}], union_by_name = true)`)).getRowObjects();
      const ids = rows.map((r) => r.diaSourceId as bigint).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      const expected = rubin.flatMap((m) => [m.diaSourceId, m.diaSourceId]).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      assert.deepEqual(ids, expected, 'each Rubin alert twice (fink and Confluent), its 64-bit diaSourceId exact');
    } finally {
      connection.closeSync();
      db.closeSync();
    }
  });

  test('a schema id unknown to the registry: each such message named (topic/partition@offset, the id) and counted as bad, every other alert decoded, exit 1', async (t) => {
    if (!haveRealData(t)) return;
    const topic = 'unknown_schema_id';
    const { fink, confluent } = await bothFormats(topic);
    const unknown = { key: Buffer.from('ZTF00unknown'), value: encodeConfluent(987_654, fink[0]!.value) };
    // Offsets 0..3: fink, unknown id, Confluent, unknown id again (its failure is remembered, still reported).
    await produceMessages(loadConfig({ env: testEnv(env) }), topic, [fink[0]!, unknown, confluent[1]!, unknown]);

    const run = runCli('fink', ['start', 'distribution_test', '--topic', topic], { ...env, DISTRIBUTION_SCHEMA_REGISTRY: registry.url });
    assert.equal(run.status, 1, run.stderr);
    const lines = run.stderr.trim().split('\n');
    assert.equal(lines.length, 3, run.stderr);
    for (const [i, offset] of [1, 3].entries()) {
      assert.match(lines[i]!, new RegExp(`^fink start distribution_test: ${topic}/0@${offset}: schema id 987654 is unknown to the registry at http://127\\.0\\.0\\.1:\\d+/apis/ccompat/v7$`));
    }
    assert.match(lines[2]!, new RegExp(`2 messages of ${topic} could not be decoded`));
    assert.match(run.stdout, new RegExp(`2 alerts read from topic ${topic} in [0-9.]+ s, decoded \\(1 fink with their schema files, 1 Confluent with their schemas from the registry\\)`));
  });

  test('no DISTRIBUTION_SCHEMA_REGISTRY set: each Confluent message an error saying so, with its id; the fink ones decoded', async (t) => {
    if (!haveRealData(t)) return;
    const topic = 'no_registry_set';
    const { fink, confluent, ids } = await bothFormats(topic);
    await produceMessages(loadConfig({ env: testEnv(env) }), topic, [fink[0]!, confluent[0]!, fink[1]!]);
    const id = ids.get(fink[0]!.key.toString())!;

    // Set empty, as an operator unsets it (a default URL, if the key gets one, is not a registry set by them).
    const run = runCli('fink', ['start', 'distribution_test', '--topic', topic], { ...env, DISTRIBUTION_SCHEMA_REGISTRY: '' });
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stderr, new RegExp(`^fink start distribution_test: ${topic}/0@1: schema id ${id}: the message is in the Confluent wire format and no DISTRIBUTION_SCHEMA_REGISTRY is set to resolve its schema id$`, 'm'));
    assert.match(run.stdout, new RegExp(`2 alerts read from topic ${topic} in [0-9.]+ s, decoded with their schema files`));
  });

  test('a registry that cannot be reached: each Confluent message an error naming it and the id, counted as bad, the reading goes on', async (t) => {
    if (!haveRealData(t)) return;
    const topic = 'registry_away';
    const { fink, confluent, ids } = await bothFormats(topic);
    await produceMessages(loadConfig({ env: testEnv(env) }), topic, [confluent[0]!, fink[0]!, confluent[1]!]);
    // A port nothing listens on, with credentials in the URL that must not be printed.
    const away = `http://reader:s3cret@127.0.0.1:${await freePortPair(1)}/apis/ccompat/v7`;

    const run = runCli('fink', ['start', 'distribution_test', '--topic', topic], { ...env, DISTRIBUTION_SCHEMA_REGISTRY: away });
    assert.equal(run.status, 1, run.stderr);
    for (const [offset, m] of [[0, confluent[0]!], [2, confluent[1]!]] as const) {
      const id = ids.get(fink[confluent.indexOf(m)]!.key.toString())!;
      assert.match(run.stderr, new RegExp(`^fink start distribution_test: ${topic}/0@${offset}: fetching schema id ${id}: the schema registry at http://\\*\\*\\*@127\\.0\\.0\\.1:\\d+/apis/ccompat/v7/schemas/ids/${id} cannot be reached`, 'm'));
    }
    assert.doesNotMatch(run.stderr + run.stdout, /s3cret/);
    assert.match(run.stdout, new RegExp(`1 alerts read from topic ${topic}`));
  });
});
