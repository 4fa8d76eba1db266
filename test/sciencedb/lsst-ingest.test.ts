// Rubin alerts in the science database: the published samples of every major version ingested with
// exact fidelity, beside ZTF alerts in the same night, and night files written before Rubin still
// read (as ZTF) and brought up to date by a writer.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, test } from 'node:test';
import { encodeContainer } from '../../src/avro/container.ts';
import { parseAvroType, sanitizeSchema, schemaFingerprint, type AvroSchema, type RecordSchema } from '../../src/avro/schema.ts';
import { COLUMNS } from '../../src/alert/fields.ts';
import { extractLsstFields } from '../../src/alert/lsst-fields.ts';
import { lsstFields, ztfFields } from '../../src/alert/survey.ts';
import { addValues } from '../../src/sciencedb/added.ts';
import { ingestPaths } from '../../src/sciencedb/ingest.ts';
import { openReader } from '../../src/sciencedb/reader.ts';
import { createSimulation } from '../../src/sciencedb/simulate.ts';
import { dbStats } from '../../src/sciencedb/stats.ts';
import { nightFile } from '../../src/sciencedb/store.ts';
import { decodeIndependently, haveLsstData, LSST_SAMPLES } from '../helpers/data.ts';
import { readStored } from '../helpers/stored.ts';
import { tempDir } from '../helpers/temp.ts';
import { plain } from '../helpers/values.ts';


// The alerts table as every night file had it before Rubin: no survey column, candid unique alone.
const PRE_RUBIN_DDL = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta (key, value) VALUES ('id', 'c0ffee0000000001');
CREATE TABLE schemas (id TEXT PRIMARY KEY, json TEXT NOT NULL);
CREATE TABLE alerts (
  seq INTEGER PRIMARY KEY, candid INTEGER NOT NULL UNIQUE, objectId TEXT NOT NULL, schema_id TEXT NOT NULL,
  datum BLOB NOT NULL, added_schema_id TEXT, added BLOB, ingested_ms INTEGER NOT NULL,
  ${COLUMNS.map((c) => `${c.name} ${c.kind === 'real' ? 'REAL' : c.kind === 'int' ? 'INTEGER' : 'TEXT'}`).join(', ')}
);
CREATE INDEX alerts_objectId ON alerts (objectId);
`;

/** A night file in the layout written before Rubin, holding `count` simulated ZTF alerts. */
function preRubinNight(dir: string, night: string, count: number): { candid: bigint; objectId: string; magpsf: number | null }[] {
  mkdirSync(dir, { recursive: true });
  const db = new DatabaseSync(nightFile(dir, night));
  db.exec(PRE_RUBIN_DDL);
  const sim = createSimulation({ profile: 'ztf-light', seed: 7, night });
  const insert = db.prepare(`INSERT INTO alerts (candid, objectId, schema_id, datum, ingested_ms, ${COLUMNS.map((c) => c.name).join(', ')}) VALUES (?, ?, ?, ?, ?, ${COLUMNS.map(() => '?').join(', ')})`);
  const written = [];
  for (let i = 0; i < count; i++) {
    const alert = sim.next();
    const f = ztfFields(alert);
    db.prepare('INSERT OR IGNORE INTO schemas (id, json) VALUES (?, ?)').run(alert.schemaId, alert.schemaJson);
    insert.run(f.candid, f.objectId, alert.schemaId, alert.datum, 1, ...COLUMNS.map((c) => f[c.name]));
    written.push({ candid: f.candid, objectId: f.objectId, magpsf: f.magpsf });
  }
  db.close();
  return written;
}

describe('Rubin alerts in the science database', () => {
  test('each published major version (v9, v10, v11) is ingested exactly: datum, fields, identity and night', async (t) => {
    if (!haveLsstData(t)) return;
    for (const file of LSST_SAMPLES) {
      const dir = tempDir('lsst-ingest');
      const report = ingestPaths(dir, [file]);
      assert.deepEqual(report.failed, [], basename(file));
      assert.equal(report.inserted, 1);
      const { schema, values } = await decodeIndependently(file);
      assert.match((schema as { name: string }).name, /^lsst\.v\d+_0\.alert$/);
      const [stored, ...others] = readStored(dir);
      assert.equal(others.length, 0);
      assert.ok(stored !== undefined && stored.survey === 'lsst', `${basename(file)}: stored as a Rubin alert`);
      const source = values[0]!;
      // The datum is the file's, byte for byte, and decodes to avsc's own reading of the file.
      const type = parseAvroType(sanitizeSchema(schema));
      assert.equal(stored.schemaId, schemaFingerprint(type));
      assert.ok(Buffer.from(stored.datum).equals(type.toBuffer(source)), `${basename(file)}: bytes identical`);
      assert.deepEqual(plain(type.fromBuffer(Buffer.from(stored.datum))), plain(source));
      // Identity: the diaSourceId (a bigint), the object's diaObjectId, Rubin's dayObs.
      assert.equal(typeof stored.alertId, 'bigint');
      assert.equal(stored.alertId, source.diaSourceId);
      const diaObject = source.diaObject as { diaObjectId: bigint };
      assert.equal(stored.objectKey, String(diaObject.diaObjectId));
      assert.equal(stored.night, '20250815', 'MJD 60902.99 TAI is the evening of 15 August 2025 in Chile');
      // Every typed field as read back equals the one extracted from avsc's decoding.
      assert.deepEqual(stored.fields, extractLsstFields(source));
      const diaSource = source.diaSource as Record<string, unknown>;
      const fields = lsstFields(stored);
      assert.equal(fields.psfFlux, diaSource.psfFlux);
      assert.equal(fields.psfFlux, Math.fround(fields.psfFlux!), 'a float stays a 32-bit float');
      assert.equal(fields.midpointMjdTai, diaSource.midpointMjdTai);
      assert.equal(fields.band, 'r');
      assert.equal(fields.nDiaSources, (source.prvDiaSources as unknown[]).length);
      assert.deepEqual(dbStats(dir).surveys, { lsst: 1 });
    }
  });

  test('a Rubin alert and a ZTF alert with the same id are two alerts; ingesting again stores nothing twice', (t) => {
    if (!haveLsstData(t)) return;
    const dir = tempDir('lsst-mixed');
    const rubin = LSST_SAMPLES[1]!;
    // A ZTF alert of the same night whose candid is the sample's diaSourceId.
    const sim = createSimulation({ profile: 'ztf-light', seed: 3, night: '20250815' });
    const ztf = sim.next();
    const value = parseAvroType(sim.alertSchema).fromBuffer(Buffer.from(ztf.datum)) as Record<string, unknown>;
    value.candid = 1231321321n;
    (value.candidate as Record<string, unknown>).candid = 1231321321n;
    const ztfFile = join(dir, 'ztf.avro');
    writeFileSync(ztfFile, encodeContainer(sim.alertSchema, [parseAvroType(sim.alertSchema).toBuffer(value)]));
    const first = ingestPaths(join(dir, 'db'), [rubin, ztfFile]);
    assert.deepEqual(first.failed, []);
    assert.equal(first.inserted, 2);
    const again = ingestPaths(join(dir, 'db'), [rubin, ztfFile, LSST_SAMPLES[0]!]);
    assert.equal(again.inserted, 0, 'the v9 sample is the same diaSource: already stored');
    const stored = readStored(join(dir, 'db'));
    assert.deepEqual(stored.map((a) => [a.survey, a.alertId]).sort(), [['lsst', 1231321321n], ['ztf', 1231321321n]]);
    assert.deepEqual(dbStats(join(dir, 'db')).nights['20250815']!.surveys, { lsst: 1, ztf: 1 });
  });

  test('a night file written before Rubin reads as ZTF, and takes Rubin alerts once a writer brings it up to date', (t) => {
    if (!haveLsstData(t)) return;
    const dir = tempDir('lsst-old-night');
    const written = preRubinNight(dir, '20250815', 5);
    // Read as it is, before any writer touched it.
    const reader = openReader(dir);
    const before = reader.read({}, 100).alerts;
    assert.equal(before.length, 5);
    for (const [i, a] of before.entries()) {
      assert.equal(a.survey, 'ztf');
      assert.equal(a.alertId, written[i]!.candid);
      assert.equal(a.objectKey, written[i]!.objectId);
      assert.equal(ztfFields(a).magpsf, written[i]!.magpsf);
    }
    assert.deepEqual(dbStats(dir).surveys, { ztf: 5 });
    // A writer adds the survey column and Rubin's columns, keeping every row and sequence.
    assert.equal(ingestPaths(dir, [LSST_SAMPLES[2]!]).inserted, 1);
    const columns = new DatabaseSync(nightFile(dir, '20250815'), { readOnly: true });
    const names = (columns.prepare('PRAGMA table_info(alerts)').all() as { name: string }[]).map((c) => c.name);
    columns.close();
    assert.ok(names.includes('survey') && names.includes('diaObjectId') && names.includes('psfFlux'));
    // The reader that had the old layout open sees the new alert as Rubin's, after the ZTF ones.
    const after = reader.read({ 20250815: 5 }, 100).alerts;
    assert.deepEqual(after.map((a) => [a.seq, a.survey, a.alertId]), [[6, 'lsst', 1231321321n]]);
    assert.deepEqual(reader.read({}, 100).alerts.slice(0, 5).map((a) => a.survey), ['ztf', 'ztf', 'ztf', 'ztf', 'ztf']);
    reader.close();
    assert.deepEqual(dbStats(dir).surveys, { lsst: 1, ztf: 5 });
    // Values are added to a ZTF alert of the old night by its candid, as before.
    const late: RecordSchema = { type: 'record', name: 'late', fields: [{ name: 'roid', type: ['int', 'null'] }] };
    addValues(dir, written[0]!.candid, late, { roid: 3 });
    assert.equal(ztfFields(readStored(dir)[0]!).roid, 3);
  });

  test('values added to an alert of a night written before Rubin bring that night up to date', () => {
    const dir = tempDir('lsst-old-added');
    const written = preRubinNight(dir, '20250816', 3);
    const late: RecordSchema = { type: 'record', name: 'late', fields: [{ name: 'cdsxmatch', type: ['string', 'null'] }] };
    assert.throws(() => addValues(dir, written[1]!.candid, late, { cdsxmatch: 'SN' }, 'lsst'), /lsst alert \d+ is not in the science database/);
    const before = readStored(dir).map((a) => [a.survey, ztfFields(a).cdsxmatch]);
    assert.equal(addValues(dir, written[1]!.candid, late, { cdsxmatch: 'SN' }), '20250816');
    before[1] = ['ztf', 'SN'];
    assert.deepEqual(readStored(dir).map((a) => [a.survey, ztfFields(a).cdsxmatch]), before);
    assert.deepEqual(dbStats(dir).surveys, { ztf: 3 });
  });

  test('a file of no known survey is named with the reason, and nothing of it is stored', () => {
    const dir = tempDir('lsst-unknown');
    const schema: AvroSchema = { type: 'record', name: 'lsst.v10_0.diaSource', fields: [{ name: 'ra', type: 'double' }] };
    const file = join(dir, 'diasource.avro');
    writeFileSync(file, encodeContainer(schema as RecordSchema, [parseAvroType(schema).toBuffer({ ra: 1 })]));
    const report = ingestPaths(join(dir, 'db'), [file]);
    assert.equal(report.inserted, 0);
    assert.deepEqual(report.failed, [{ file, reason: "its schema (record 'lsst.v10_0.diaSource') is neither a ZTF alert (objectId, candidate) nor a Rubin alert (lsst.vX_Y.alert)" }]);
  });
});
