import assert from 'node:assert/strict';
import { test } from 'node:test';
import { extendRecord, parseAvroType, type RecordSchema } from '../../src/avro/schema.ts';
import { addValues, AddValuesError } from '../../src/sciencedb/added.ts';
import { openReader } from '../../src/sciencedb/reader.ts';
import { simulateIntoDb } from '../../src/sciencedb/simulate.ts';
import { tempDir } from '../helpers/temp.ts';
import { plain } from '../helpers/values.ts';
import { ztfFields } from '../../src/alert/survey.ts';

const late: RecordSchema = { type: 'record', name: 'late', fields: [{ name: 'tns', type: ['string', 'null'] }, { name: 'roid', type: ['int', 'null'] }] };

test('values added after ingest: a datum of their own, merged with earlier ones, in the typed columns', () => {
  const dir = tempDir('added');
  simulateIntoDb(dir, { profile: 'ztf-light', seed: 2, night: '20261122' }, 5);
  const reader = openReader(dir);
  const before = reader.read({}, 5).alerts[2]!;
  const candid = before.alertId;
  assert.equal(addValues(dir, candid, late, { tns: 'SN 2026abc', roid: 3 }), '20261122');

  const after = reader.read({}, 5).alerts[2]!;
  assert.equal(after.seq, before.seq);
  assert.ok(Buffer.from(after.datum).equals(Buffer.from(before.datum)), 'the alert datum is untouched');
  assert.equal(ztfFields(after).roid, 3);
  const addedSchema = JSON.parse(reader.schemaJson(after.added!.schemaId)) as RecordSchema;
  // The values Fink added at ingest are kept; `roid` takes its new value; `tns` is new.
  assert.deepEqual(addedSchema.fields.map((f) => f.name), ['cdsxmatch', 'mulens', 'rf_snia_vs_nonia', 'snn_snia_vs_nonia', 'snn_sn_vs_all', 'rf_kn_vs_nonkn', 'nalerthist', 'tns', 'roid']);
  const values = plain(parseAvroType(addedSchema).fromBuffer(Buffer.from(after.added!.datum))) as Record<string, unknown>;
  assert.equal(values.tns, 'SN 2026abc');
  assert.equal(values.cdsxmatch, ztfFields(before).cdsxmatch);

  // On the wire: the stored datum followed by the added datum decodes with the extended schema.
  const alertSchema = JSON.parse(reader.schemaJson(after.schemaId)) as RecordSchema;
  const wire = parseAvroType(extendRecord(alertSchema, addedSchema.fields));
  const decoded = wire.fromBuffer(Buffer.concat([after.datum, after.added!.datum])) as Record<string, unknown>;
  assert.equal(decoded.candid, candid);
  assert.equal(decoded.tns, 'SN 2026abc');
  assert.equal(decoded.roid, 3);
  reader.close();
});

test('adding values to an unknown alert, or with a name the alert has, is refused by name', () => {
  const dir = tempDir('added-bad');
  simulateIntoDb(dir, { profile: 'ztf-light', seed: 2, night: '20261122' }, 1);
  assert.throws(() => addValues(dir, 42n, late, { tns: null, roid: null }), (err: Error) => err instanceof AddValuesError && /alert 42 is not in the science database/.test(err.message));
  const reader = openReader(dir);
  const candid = reader.read({}, 1).alerts[0]!.alertId;
  reader.close();
  const clash: RecordSchema = { type: 'record', name: 'x', fields: [{ name: 'objectId', type: 'string' }] };
  assert.throws(() => addValues(dir, candid, clash, { objectId: 'x' }), /added field 'objectId' already exists/);
});
