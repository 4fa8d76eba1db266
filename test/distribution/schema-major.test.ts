// The major version of the shared alert schemas: Rubin's from its record's name, ZTF's from the
// record's version attribute; none for a schema that does not say.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readContainer } from '../../src/avro/container.ts';
import { majorVersionOf, majorVersionOfText } from '../../src/distribution/schema-major.ts';
import { FINK_DATA, haveLsstData, haveRealData, LSST_DATA, LSST_SAMPLES, ZTF_DATA } from '../helpers/data.ts';

const schemaOf = (file: string) => readContainer(readFileSync(file)).schemaText;

test('Rubin v9, v10, v11 (their schema files and the samples\' writer schemas): majors 9, 10, 11', (t) => {
  if (!haveLsstData(t)) return;
  for (const [i, major] of [9, 10, 11].entries()) {
    const file = readFileSync(join(LSST_DATA, 'schema', String(major), '0', `lsst.v${major}_0.alert.avsc`), 'utf8');
    assert.deepEqual(majorVersionOfText(file), { survey: 'lsst', major });
    assert.deepEqual(majorVersionOfText(schemaOf(LSST_SAMPLES[i]!)), { survey: 'lsst', major });
  }
});

test('ZTF 3.2 and 3.3 alerts: major 3; the ZTF 4.02 schema file: major 4', (t) => {
  if (!haveRealData(t)) return;
  assert.deepEqual(majorVersionOfText(schemaOf(join(ZTF_DATA, '2019_01_10_739260766315010006.avro'))), { survey: 'ztf', major: 3 });
  assert.deepEqual(majorVersionOfText(schemaOf(join(ZTF_DATA, '472263571115115000.avro'))), { survey: 'ztf', major: 3 });
  assert.deepEqual(majorVersionOfText(schemaOf(join(FINK_DATA, 'ZTF19acihgng.avro'))), { survey: 'ztf', major: 3 }, "Fink's ZTF output keeps ZTF's record and version");
  assert.deepEqual(majorVersionOfText(readFileSync(join(ZTF_DATA, 'schema', 'alert.avsc'), 'utf8')), { survey: 'ztf', major: 4 });
});

test('a schema that does not say its version has none: Fink\'s renamed records, a ZTF record without version, not JSON', (t) => {
  if (!haveRealData(t) || !haveLsstData(t)) return;
  assert.equal(majorVersionOfText(schemaOf(join(FINK_DATA, 'avro_multi_alerts.avro'))), undefined, 'topLevelRecord');
  assert.equal(majorVersionOfText(readFileSync(join(LSST_DATA, 'fink_lsst_distribution_schema_2026-03-18.json'), 'utf8')), undefined, 'topLevelRecord.value');
  assert.equal(majorVersionOf({ type: 'record', name: 'alert', namespace: 'ztf', fields: [{ name: 'objectId' }] }), undefined);
  assert.equal(majorVersionOf({ type: 'record', name: 'other', version: '3.3', fields: [{ name: 'x' }] }), undefined, 'a version on a record that is not ZTF\'s');
  assert.equal(majorVersionOfText('not json'), undefined);
});
