// Which survey a writer schema is, as fink start distribution_test decides its columns: Rubin's
// packets by their record name (extended or not), Fink's Spark-written LSST schema by its shape,
// ZTF's schemas (and anything else) as ZTF.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { readContainer } from '../../src/avro/container.ts';
import { extendRecord, type RecordSchema } from '../../src/avro/schema.ts';
import { surveyOf, tableHeader, tableRow } from '../../src/consumer/table.ts';
import { AlertError } from '../../src/alert/fields.ts';
import { haveLsstData, haveRealData, LSST_DATA, LSST_VERSIONS } from '../helpers/data.ts';
import { realMessages, schemasOf } from '../helpers/wire.ts';

describe('the survey of a writer schema', () => {
  test("Rubin's packets of every version, alone or extended by added fields, and Fink's LSST distribution schema are Rubin", (t) => {
    if (!haveLsstData(t)) return;
    for (const version of LSST_VERSIONS) {
      const schema = readContainer(readFileSync(join(LSST_DATA, `fakeAlert-${version}.avro`))).schema as RecordSchema;
      assert.equal(surveyOf(schema), 'lsst', version);
      assert.equal(surveyOf(extendRecord(schema, [{ name: 'finkclass', type: 'string' }])), 'lsst', `${version} extended`);
    }
    const fink = JSON.parse(readFileSync(join(LSST_DATA, 'fink_lsst_distribution_schema_2026-03-18.json'), 'utf8')) as RecordSchema;
    assert.equal(fink.name, 'topLevelRecord.value');
    assert.equal(surveyOf(fink), 'lsst');
    // The same name by namespace rather than by a dotted name.
    assert.equal(surveyOf({ type: 'record', name: 'alert', namespace: 'lsst.v12_3', fields: [] }), 'lsst');
  });

  test('every ZTF schema of the real data is ZTF', (t) => {
    if (!haveRealData(t)) return;
    const schemas = schemasOf(realMessages());
    assert.ok(schemas.length >= 2);
    for (const schema of schemas) assert.equal(surveyOf(schema), 'ztf', schema.name);
  });

  test('a Rubin row without its diaSourceId is an AlertError; with a diaSource of nulls, nulls are shown', () => {
    assert.throws(() => tableRow('lsst', { diaSource: {} }), AlertError);
    const row = tableRow('lsst', { diaSourceId: 2n ** 63n - 1n, diaSource: { diaObjectId: null, band: 'g\u001b[2J' } }).trim().split(/\s+/);
    assert.deepEqual(row, ['9223372036854775807', 'null', 'null', 'null', 'null', 'g\\x1b[2J', 'null', 'null', 'null']);
    assert.equal(tableHeader('lsst').split('\n')[0], 'Rubin alerts');
  });
});
