import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SpawnSyncReturns } from 'node:child_process';
import { describe, test } from 'node:test';
import { parseAvroType, schemaFingerprint, type RecordSchema } from '../../src/avro/schema.ts';
import { schemaFileFor } from '../../src/avro/schema-file-name.ts';
import { decodeAlertFile, SchemaCache } from '../../src/sciencedb/decode.ts';
import { expandPaths } from '../../src/sciencedb/ingest.ts';
import { simulateIntoDb } from '../../src/sciencedb/simulate.ts';
import { runCli } from '../helpers/cli.ts';
import { FINK_DATA, haveRealData, realDataPresent, ZTF_DATA } from '../helpers/data.ts';
import { tempDir } from '../helpers/temp.ts';
import { decodeWithKey, distributionSetup, readAll, type DistributionSetup } from '../helpers/distribution.ts';
import { withTestCluster, type TestCluster } from '../helpers/kafka.ts';
import { plain } from '../helpers/values.ts';

describe('real alerts through the distribution', () => {
  let cluster: TestCluster;
  let setup: DistributionSetup;
  let ingest: SpawnSyncReturns<string> | undefined;
  let run: SpawnSyncReturns<string> | undefined;
  // The 15 real alerts ingested and distributed once, read back by the tests that follow; a test
  // that adds alerts has a setup (and topics) of its own.
  withTestCluster((started) => {
    cluster = started;
    setup = distributionSetup(cluster);
    if (!realDataPresent()) return;
    ingest = runCli('fink', ['ingest', ZTF_DATA, FINK_DATA], setup.env);
    run = runCli('fink', ['start', 'distribution', '--until-caught-up'], setup.env);
  });

  test('ingest, distribute, and every message equals its source alert, byte for byte and field by field', async (t) => {
    if (!haveRealData(t) || ingest === undefined || run === undefined) return;
    assert.equal(ingest.status, 0, ingest.stderr);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /distributed 15 alerts/);
    assert.match(run.stderr, /created topic.* topic=distribution_test/);

    // The sources, decoded on their own (the container reader and avsc, not the database).
    const cache = new SchemaCache();
    const sources = new Map<bigint, { datum: Uint8Array; schema: RecordSchema }>();
    for (const file of expandPaths([ZTF_DATA, FINK_DATA]).files) {
      for (const a of decodeAlertFile(readFileSync(file), cache)) sources.set(a.alertId, { datum: a.datum, schema: JSON.parse(a.schemaJson) as RecordSchema });
    }
    const messages = await readAll(setup.config, 'distribution_test');
    assert.equal(messages.length, 15);
    const seen = new Set<bigint>();
    for (const m of messages) {
      const decoded = decodeWithKey(m);
      const candid = decoded.candid as bigint;
      const source = sources.get(candid);
      assert.ok(source !== undefined, `message for alert ${candid} has a source`);
      assert.ok(!seen.has(candid), `alert ${candid} once`);
      seen.add(candid);
      assert.ok(m.value!.equals(Buffer.from(source.datum)), `alert ${candid}: the value is the datum as it arrived`);
      const sourceValue = parseAvroType(source.schema).fromBuffer(Buffer.from(source.datum));
      assert.deepEqual(plain(decoded), plain(sourceValue), `alert ${candid}: every field equal`);
      // The key is compact JSON of a schema valid by the spec, with the same canonical form.
      const key = m.key!.toString();
      assert.equal(key.includes('\n'), false);
      assert.equal(schemaFingerprint(parseAvroType(JSON.parse(key))), schemaFingerprint(parseAvroType(source.schema)));
    }
  });

  test('schema files: one per fingerprint beside DISTRIBUTION_SCHEMA, the newest in DISTRIBUTION_SCHEMA, the light topic its own', async (t) => {
    if (!haveRealData(t)) return;
    const fingerprints = new Set<string>();
    for (const m of await readAll(setup.config, 'distribution_test')) {
      const fp = schemaFingerprint(parseAvroType(JSON.parse(m.key!.toString())));
      fingerprints.add(fp);
      const file = schemaFileFor(setup.schemaBase, fp);
      assert.ok(existsSync(file), `${file} exists`);
      assert.equal(schemaFingerprint(parseAvroType(JSON.parse(readFileSync(file, 'utf8')))), fp);
    }
    assert.equal(fingerprints.size, 3, 'ZTF 3.2, ZTF 3.3 and the Fink schema');
    const newest = schemaFingerprint(parseAvroType(JSON.parse(readFileSync(setup.schemaBase, 'utf8'))));
    assert.ok(fingerprints.has(newest));
    const light = await readAll(setup.config, 'fink_light_ztf');
    assert.equal(light.length, 15);
    for (const m of light) {
      const schema = JSON.parse(m.key!.toString()) as RecordSchema;
      assert.equal(schema.fields.some((f) => f.name.startsWith('cutout')), false, 'no cutouts in the light topic');
      assert.ok(existsSync(schemaFileFor(setup.schemaBase, schemaFingerprint(parseAvroType(schema)))));
      assert.ok(m.value!.length < 15_000);
    }
    assert.ok(existsSync(schemaFileFor(setup.schemaBase, 'fink_light_ztf')));
  });

  test('fink start distribution_test shows the 15 alerts, decoded with the schema files', (t) => {
    if (!haveRealData(t)) return;
    const run = runCli('fink', ['start', 'distribution_test'], setup.env);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /15 alerts read from topic distribution_test/);
    for (const id of ['ZTF17aaacxxf', 'ZTF17aaajnnn', 'ZTF19acihgng', 'ZTF19acxxwrs']) assert.match(run.stdout, new RegExp(id));
    assert.match(run.stdout, /739260766315010006/, 'candids in full, all 64 bits');
    // The 16th never comes: the command waits its whole --timeout, long enough for the 15 on any machine.
    const limited = runCli('fink', ['start', 'distribution_test', '--limit', '16', '--timeout', '20'], setup.env);
    assert.equal(limited.status, 1);
    assert.match(limited.stderr, /only 15 of 16 alerts arrived on distribution_test within 20 s/);
  });

  test('distribution_test --out saves the alerts as Avro and as Parquet, values intact', async (t) => {
    if (!haveRealData(t)) return;
    const dir = tempDir('out');
    const avroOut = join(dir, 'alerts.avro');
    const parquetOut = join(dir, 'alerts.parquet');
    for (const out of [avroOut, parquetOut]) {
      const run = runCli('fink', ['start', 'distribution_test', '--rows', '0', '--out', out], setup.env);
      assert.equal(run.status, 0, run.stderr);
      assert.equal(run.stdout.match(/saved \d+ alerts to/g)?.length, 3, 'one file per schema');
    }
    const messages = new Map((await readAll(setup.config, 'distribution_test')).map((m) => [decodeWithKey(m).candid as bigint, m]));
    // Avro: the container files hold the message values, byte for byte.
    const files = readdirSync(dir);
    let avroCount = 0;
    for (const f of files.filter((f) => f.endsWith('.avro'))) {
      for (const a of decodeAlertFile(readFileSync(join(dir, f)), new SchemaCache())) {
        assert.ok(Buffer.from(a.datum).equals(messages.get(a.alertId)!.value!), `${f}: alert ${a.alertId}`);
        avroCount++;
      }
    }
    assert.equal(avroCount, 15);
    // Parquet, read back by DuckDB: 64-bit candids, 32-bit floats and cutout bytes as sent.
    const duck = await import('@duckdb/node-api');
    const db = await duck.DuckDBInstance.create(':memory:');
    const connection = await db.connect();
    const reader = await connection.runAndReadAll(`SELECT candid, candidate.magpsf AS magpsf, cutoutScience.stampData AS stamp FROM read_parquet('${join(dir, 'alerts*.parquet')}', union_by_name = true)`);
    const rows = reader.getRowObjects() as { candid: bigint; magpsf: number; stamp: { bytes: Uint8Array } }[];
    connection.closeSync();
    db.closeSync();
    assert.equal(rows.length, 15);
    for (const row of rows) {
      const sent = decodeWithKey(messages.get(row.candid)!) as { candidate: { magpsf: number }; cutoutScience: { stampData: Buffer } };
      assert.equal(row.magpsf, sent.candidate.magpsf, `alert ${row.candid}: magpsf`);
      assert.ok(Buffer.from(row.stamp.bytes).equals(sent.cutoutScience.stampData), `alert ${row.candid}: the cutout bytes`);
    }
  });

  test('a message whose schema file is missing fails distribution_test with the file named', (t) => {
    if (!haveRealData(t)) return;
    const elsewhere = { ...setup.env, DISTRIBUTION_SCHEMA: setup.schemaBase.replace('schemas', 'no-schemas-here') };
    const run = runCli('fink', ['start', 'distribution_test'], elsewhere);
    assert.equal(run.status, 1);
    assert.match(run.stderr, /distribution_test\/\d@\d+: no usable schema file for fingerprint [0-9a-f]{16} \(.*no-schemas-here/);
  });

  test('a second run distributes nothing more; new alerts, of a new schema (ZTF 4.02 with added values), go out after them, in the key and in a new file; older keys still decode', async (t) => {
    if (!haveRealData(t)) return;
    const own = distributionSetup(cluster, { DISTRIBUTION_TEST_TOPIC: 'second_run', DISTRIBUTION_TOPICS: 'none' });
    assert.equal(runCli('fink', ['ingest', ZTF_DATA, FINK_DATA], own.env).status, 0);
    assert.match(runCli('fink', ['start', 'distribution', '--until-caught-up'], own.env).stdout, /distributed 15 alerts/);
    const again = runCli('fink', ['start', 'distribution', '--until-caught-up'], own.env);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /distributed 0 alerts/);
    assert.match(again.stderr, /resuming after the last committed batch/);
    const sim = runCli('fink', ['simulate', '--count', '40', '--night', '20261101'], own.env);
    assert.equal(sim.status, 0, sim.stderr);
    const more = runCli('fink', ['start', 'distribution', '--until-caught-up'], own.env);
    assert.match(more.stdout, /distributed 40 alerts/);
    const messages = await readAll(own.config, 'second_run');
    assert.equal(messages.length, 55);
    assert.equal(new Set(messages.map((m) => decodeWithKey(m).candid)).size, 55, 'no alert twice');

    const newest = JSON.parse(readFileSync(own.schemaBase, 'utf8')) as RecordSchema;
    assert.equal(newest.fields.at(-1)?.name, 'nalerthist', 'DISTRIBUTION_SCHEMA is now the simulated alerts\' schema with the added values last');
    const fps = new Map<string, number>();
    for (const m of messages) {
      const decoded = decodeWithKey(m);
      assert.equal(typeof decoded.candid, 'bigint');
      const fp = schemaFingerprint(parseAvroType(JSON.parse(m.key!.toString())));
      fps.set(fp, (fps.get(fp) ?? 0) + 1);
    }
    assert.equal(fps.size, 4);
    assert.ok([...fps.values()].includes(40));
  });

  // Simulated alerts are enough here: many, several per object.
  test('every partition is used and an object stays on one partition', async () => {
    const own = distributionSetup(cluster, { DISTRIBUTION_TEST_TOPIC: 'partitions_check', DISTRIBUTION_TOPICS: 'none' });
    simulateIntoDb(own.dbDir, { profile: 'ztf-light', seed: 51, night: '20261101' }, 300);
    const distributed = runCli('fink', ['start', 'distribution', '--until-caught-up'], own.env);
    assert.equal(distributed.status, 0, distributed.stderr);
    const messages = await readAll(own.config, 'partitions_check');
    assert.equal(messages.length, 300);
    const partitionOf = new Map<string, number>();
    for (const m of messages) {
      const objectId = decodeWithKey(m).objectId as string;
      const before = partitionOf.get(objectId);
      if (before !== undefined) assert.equal(m.partition, before, `${objectId} on one partition`);
      partitionOf.set(objectId, m.partition);
    }
    assert.ok(partitionOf.size < messages.length, 'some object has several alerts');
    assert.deepEqual(new Set(messages.map((m) => m.partition)), new Set([0, 1, 2]));
  });
});
