import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { encodeContainer } from '../../src/avro/container.ts';
import type { AvroSchema } from '../../src/avro/schema.ts';
import { openReader } from '../../src/sciencedb/reader.ts';
import { runCli } from '../helpers/cli.ts';
import { haveRealData, ZTF_DATA } from '../helpers/data.ts';
import { alertSchema } from '../helpers/hostile.ts';
import { LSST_MINI_SCHEMA as LSST_SCHEMA, lsstDatum, nestedRecordsDatum, nestedRecordsSchema, nullRecordsDatum, nullRecordsSchema, ztfDatum } from '../helpers/poison-alerts.ts';
import { tempDir } from '../helpers/temp.ts';

/** Each poison: its file, schema and datum, and what ingest says of it. */
const POISONS: [string, AvroSchema, Buffer, RegExp][] = [
  ['ztf-nan.avro', alertSchema(), ztfDatum(901n, Number.NaN), /ztf-nan\.avro: alert #1: alert candid 901: candidate\.jd NaN is not a time an alert can have/],
  ['ztf-future.avro', alertSchema(), ztfDatum(902n, 1e12), /ztf-future\.avro: alert #1: alert candid 902: candidate\.jd 1000000000000 is not a time/],
  ['lsst-infinite.avro', LSST_SCHEMA, lsstDatum(903n, Number.POSITIVE_INFINITY), /lsst-infinite\.avro: alert #1: alert diaSourceId 903: diaSource\.midpointMjdTai Infinity is not a time/],
  ['lsst-absurd.avro', LSST_SCHEMA, lsstDatum(904n, 1e12), /lsst-absurd\.avro: alert #1: alert diaSourceId 904: diaSource\.midpointMjdTai 1000000000000 is not a time/],
  // 900,000 records of 50 nulls from 4 bytes: 46 million values.
  ['null-records.avro', nullRecordsSchema(), nullRecordsDatum(905n, 900_000), /null-records\.avro: alert #1: builds more than \d+ values/],
  // 10^8 values from no bytes at all.
  ['nested.avro', nestedRecordsSchema(), nestedRecordsDatum(906n), /nested\.avro: its schema is invalid: the schema 'alert' expands to 111111116 values/],
];

test('fink ingest: poison alerts among good files are each named, every good alert is stored, exit 1, no abort', (t) => {
  if (!haveRealData(t)) return;
  const work = tempDir('poison');
  const poisons = POISONS.map(([name, schema, datum]) => {
    writeFileSync(join(work, name), encodeContainer(schema, [datum]));
    return join(work, name);
  });
  const good = join(work, 'good.avro');
  writeFileSync(good, encodeContainer(alertSchema(), [ztfDatum(1n, 2460000.5), ztfDatum(2n, 2460001.5)]));
  const goodLsst = join(work, 'good-lsst.avro');
  writeFileSync(goodLsst, encodeContainer(LSST_SCHEMA, [lsstDatum(3n, 61000.2)]));
  const real = join(ZTF_DATA, '472263571115115000.avro');
  const db = join(work, 'db');
  const run = runCli('fink', ['ingest', poisons[0]!, good, ...poisons.slice(1, 4), real, ...poisons.slice(4), goodLsst], { SCIENCE_DB_PATH: db });
  assert.equal(run.status, 1, `status ${run.status} (signal ${run.signal}): ${run.stderr.slice(-2000)}`);
  for (const [, , , said] of POISONS) assert.match(run.stderr, said);
  assert.match(run.stderr, /6 files not ingested/);
  assert.doesNotMatch(run.stderr, /unexpected error|RangeError/);
  assert.match(run.stdout, /ingested 4 alerts from 3 files/);
  const reader = openReader(db);
  try {
    const stored = reader.read({}, 1000).alerts.map((a) => `${a.survey}:${a.alertId}`).sort();
    assert.deepEqual(stored, ['lsst:3', 'ztf:1', 'ztf:2', 'ztf:472263571115115000']);
  } finally {
    reader.close();
  }
});
