import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { before, describe, test } from 'node:test';
import { encodeContainer } from '../../src/avro/container.ts';
import { parseAvroType, sanitizeSchema, schemaFingerprint, type AvroSchema } from '../../src/avro/schema.ts';
import { expandPaths, ingestPaths } from '../../src/sciencedb/ingest.ts';
import { openReader } from '../../src/sciencedb/reader.ts';
import { dbStats } from '../../src/sciencedb/stats.ts';
import { simulateIntoFiles } from '../../src/sciencedb/simulate.ts';
import { runCli } from '../helpers/cli.ts';
import { plain } from '../helpers/values.ts';
import { decodeIndependently, FINK_DATA, haveRealData, realDataPresent, ZTF_DATA } from '../helpers/data.ts';
import { readStored } from '../helpers/stored.ts';
import { tempDir } from '../helpers/temp.ts';
import { ztfFields } from '../../src/alert/survey.ts';


describe('ingest of the real alert files', () => {
  const dir = tempDir('sciencedb');
  // Ingested once, for every test of the describe to look at.
  let report: ReturnType<typeof ingestPaths> | undefined;
  before(() => {
    if (realDataPresent()) report = ingestPaths(dir, [ZTF_DATA, FINK_DATA]);
  });

  test('stores all 15 alerts of ../shared/data, and every field equals the source decoded independently', async (t) => {
    if (!haveRealData(t) || report === undefined) return;
    assert.deepEqual(report.failed, []);
    assert.equal(report.files, 5);
    assert.equal(report.alerts, 15);
    assert.equal(report.inserted, 15);

    const stored = new Map(readStored(dir).map((a) => [a.alertId, a]));
    assert.equal(stored.size, 15);
    const reader = openReader(dir);
    let checked = 0;
    for (const file of expandPaths([ZTF_DATA, FINK_DATA]).files) {
      const { schema, values } = await decodeIndependently(file);
      for (const source of values) {
        const candid = source.candid as bigint;
        assert.equal(typeof candid, 'bigint', `${file}: candid is a bigint`);
        assert.ok(candid > 2n ** 53n, 'ZTF candids exceed 2^53');
        const alert = stored.get(candid);
        assert.ok(alert !== undefined, `${file}: alert ${candid} stored`);
        assert.equal(alert.objectKey, source.objectId);
        // The stored schema is the header's made valid, up to documentation (two ZTF 3.3 files
        // differ only in a doc string: one schema by the Parsing Canonical Form).
        const type = parseAvroType(JSON.parse(reader.schemaJson(alert.schemaId)) as AvroSchema);
        assert.equal(schemaFingerprint(type), schemaFingerprint(parseAvroType(sanitizeSchema(schema))));
        assert.equal(alert.schemaId, schemaFingerprint(type));
        const decoded = type.fromBuffer(Buffer.from(alert.datum));
        assert.deepEqual(plain(decoded), plain(source), `${file}: alert ${candid} decodes to the source's values`);
        // And the stored bytes are exactly the encoding of those values.
        assert.ok(Buffer.from(alert.datum).equals(type.toBuffer(source)), `${file}: alert ${candid} bytes identical`);
        const candidate = source.candidate as Record<string, unknown>;
        assert.equal(ztfFields(alert).jd, candidate.jd);
        assert.equal(ztfFields(alert).magpsf, candidate.magpsf);
        assert.equal(ztfFields(alert).fid, candidate.fid);
        checked++;
      }
    }
    reader.close();
    assert.equal(checked, 15);
  });

  test('the enriched Fink alerts keep their added values in the typed columns', (t) => {
    if (!haveRealData(t)) return;
    const enriched = readStored(dir).filter((a) => ztfFields(a).cdsxmatch !== null);
    assert.equal(enriched.length, 11);
    for (const a of enriched) assert.equal(typeof ztfFields(a).rf_snia_vs_nonia, 'number', 'rfscore is read as rf_snia_vs_nonia');
  });

  test('re-ingesting adds nothing (candid is the identity)', (t) => {
    if (!haveRealData(t)) return;
    const report = ingestPaths(dir, [ZTF_DATA, FINK_DATA]);
    assert.equal(report.alerts, 15);
    assert.equal(report.inserted, 0);
    assert.equal(dbStats(dir).alerts, 15);
  });

  test('fink ingest and fink db stats --json, as a user runs them', (t) => {
    if (!haveRealData(t)) return;
    const fresh = tempDir('sciencedb-cli');
    const env = { SCIENCE_DB_PATH: fresh };
    const first = runCli('fink', ['ingest', ZTF_DATA, FINK_DATA], env);
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, /ingested 15 alerts from 5 files .*: 15 new, 0 already stored/);
    const again = runCli('fink', ['ingest', ZTF_DATA, FINK_DATA], env);
    assert.match(again.stdout, /0 new, 15 already stored/);
    const stats = runCli('fink', ['db', 'stats', '--json'], env);
    assert.equal(stats.status, 0, stats.stderr);
    const json = JSON.parse(stats.stdout) as { alerts: number; nights: Record<string, { alerts: number }> };
    assert.equal(json.alerts, 15);
    assert.equal(Object.values(json.nights).reduce((s, n) => s + n.alerts, 0), 15);
    assert.equal(json.nights['20191101']?.alerts, 11);
  });
});

describe('bad input', () => {
  const work = tempDir('badfiles');

  // Any alert files will do: simulated ones, written by fink simulate's own code.
  test('a truncated file, a non-Avro file and alerts without candid or objectId are named; the good files go in; exit 1', () => {
    const inputs = join(work, 'in');
    const dir = join(work, 'db');
    const sources = join(work, 'sources');
    simulateIntoFiles(sources, { profile: 'ztf', seed: 61, night: '20261101' }, 2);
    const [good, other] = readdirSync(sources).sort().map((f) => join(sources, f));
    const bytes = readFileSync(other!);
    // Scratch copies in a temporary folder, made for the test and removed with it.
    mkdirSync(inputs);
    writeFileSync(join(inputs, 'truncated.avro'), bytes.subarray(0, Math.floor(bytes.length * 0.7)));
    writeFileSync(join(inputs, 'notes.avro'), 'this is not an Avro file\n');
    const schema = { type: 'record', name: 'alert', fields: [{ name: 'objectId', type: ['string', 'null'] }, { name: 'candid', type: ['long', 'null'] }, { name: 'candidate', type: { type: 'record', name: 'c', fields: [{ name: 'jd', type: 'double' }] } }] };
    const type = parseAvroType(schema);
    writeFileSync(join(inputs, 'nocandid.avro'), encodeContainer(schema, [type.toBuffer({ objectId: 'ZTF1', candid: 1n, candidate: { jd: 2459000.5 } }), type.toBuffer({ objectId: 'ZTF2', candid: null, candidate: { jd: 2459000.5 } })]));
    writeFileSync(join(inputs, 'noobject.avro'), encodeContainer(schema, [type.toBuffer({ objectId: null, candid: 7n, candidate: { jd: 2459000.5 } })]));

    const run = runCli('fink', ['ingest', inputs, good!], { SCIENCE_DB_PATH: dir });
    assert.equal(run.status, 1);
    assert.match(run.stderr, /truncated\.avro: truncated/);
    assert.match(run.stderr, /notes\.avro: not an Avro container file/);
    assert.match(run.stderr, /nocandid\.avro: alert #2: the alert has no candid/);
    assert.match(run.stderr, /noobject\.avro: alert #1: alert 7 has no objectId/);
    assert.match(run.stderr, /4 files not ingested/);
    assert.match(run.stdout, /ingested 1 alerts from 1 file/);
    // Nothing half-written: the first, valid alert of nocandid.avro is not stored either.
    const stored = readStored(dir);
    assert.deepEqual(stored.map((a) => String(a.alertId)), [basename(good!, '.avro')]);
  });

  test('a path that does not exist is named and the exit status is 1', () => {
    const run = runCli('fink', ['ingest', join(work, 'missing.avro')], { SCIENCE_DB_PATH: join(work, 'db2') });
    assert.equal(run.status, 1);
    assert.match(run.stderr, /missing\.avro: no such file or folder/);
  });

  test('no path at all is a usage error (exit 2)', () => {
    const run = runCli('fink', ['ingest'], { SCIENCE_DB_PATH: join(work, 'db3') });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /give at least one file or folder/);
  });
});

test('a path that cannot be looked at for another reason than its absence is not reported missing: reading it names the cause', () => {
  const work = tempDir('unreadable-path');
  const tooLong = join(work, `${'x'.repeat(300)}.avro`);
  assert.deepEqual(expandPaths([tooLong, join(work, 'missing.avro')]), { files: [tooLong], missing: [join(work, 'missing.avro')] });
  const report = ingestPaths(join(work, 'db'), [tooLong]);
  assert.equal(report.failed.length, 1);
  assert.match(report.failed[0]!.reason, /ENAMETOOLONG/);
});
