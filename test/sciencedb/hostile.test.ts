import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { encodeContainer, encodeContainerBlocks } from '../../src/avro/container.ts';
import { parseAvroType } from '../../src/avro/schema.ts';
import { ingestPaths } from '../../src/sciencedb/ingest.ts';
import { openReader } from '../../src/sciencedb/reader.ts';
import { runCli } from '../helpers/cli.ts';
import { FINK_DATA, haveRealData, ZTF_DATA } from '../helpers/data.ts';
import { tempDir } from '../helpers/temp.ts';
import { alertSchema, deflateBomb, ingestInChild, varint } from '../helpers/hostile.ts';

const head = (candid: bigint) => {
  const type = parseAvroType(alertSchema());
  return type.toBuffer({ objectId: 'ZTF24hostile', candid, candidate: { jd: 2460000.5 } });
};

function storedCandids(dir: string): bigint[] {
  const reader = openReader(dir);
  try {
    return reader.read({}, 1_000_000).alerts.map((a) => a.alertId).sort();
  } finally {
    reader.close();
  }
}

describe('hostile alert files', () => {
  const work = tempDir('hostile');

  test('array and map counts far beyond the bytes of a ~120-byte file are named with the file; the good file goes in', (t) => {
    if (!haveRealData(t)) return;
    const bombs: [string, object, Buffer][] = [
      // A count of strings that the 0 bytes left cannot hold.
      ['strings.avro', { name: 'xs', type: { type: 'array', items: 'string' } }, varint(2n ** 40n)],
      ['map.avro', { name: 'm', type: { type: 'map', values: 'int' } }, varint(2n ** 40n)],
      // Items that take no bytes at all: only the budget bounds them.
      ['nulls.avro', { name: 'ns', type: { type: 'array', items: 'null' } }, Buffer.concat([varint(2n ** 31n + 7n), varint(0n)])],
      // A negative count (with a block size), as writers that know sizes write it.
      ['sized.avro', { name: 'ys', type: { type: 'array', items: 'long' } }, Buffer.concat([varint(-(2n ** 40n)), varint(3n), Buffer.from([2, 4, 6]), varint(0n)])],
    ];
    for (const [name, field, tail] of bombs) {
      const file = encodeContainer(alertSchema([field]), [Buffer.concat([head(BigInt(name.length)), tail])]);
      assert.ok(file.length < 400, `${name} is a small file (${file.length} bytes)`);
      writeFileSync(join(work, name), file);
    }
    const good = join(ZTF_DATA, '472263571115115000.avro');
    const run = runCli('fink', ['ingest', ...bombs.map(([name]) => join(work, name)), good], { SCIENCE_DB_PATH: join(work, 'db-counts') });
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stderr, /strings\.avro: alert #1: corrupt \(an array block says 1099511627776 items, more than the 0 bytes left can hold\)/);
    assert.match(run.stderr, /map\.avro: alert #1: corrupt \(a map block says 1099511627776 items/);
    assert.match(run.stderr, /nulls\.avro: alert #1: more than 1000000 array or map items in one datum/);
    assert.match(run.stderr, /sized\.avro: alert #1: corrupt \(an array block says 1099511627776 items, more than the 4 bytes left can hold\)/);
    assert.match(run.stderr, /4 files not ingested/);
    assert.doesNotMatch(run.stderr, /unexpected error/);
    assert.match(run.stdout, /ingested 1 alerts from 1 file/);
  });

  test('a deflate block that would inflate to 1 GiB is refused past the block limit, in bounded memory', (t) => {
    if (!haveRealData(t)) return;
    const bomb = join(work, 'bomb.avro');
    writeFileSync(bomb, encodeContainerBlocks(alertSchema(), 'deflate', [{ count: 1, body: deflateBomb(1024) }]));
    const { report, peakMb } = ingestInChild(join(work, 'db-bomb'), [bomb, join(FINK_DATA, 'avro_multi_alerts.avro')]);
    assert.deepEqual(report.failed, [{ file: bomb, reason: 'block 0 inflates to more than the 16 MiB a block may take' }]);
    assert.equal(report.alerts, 11);
    assert.ok(peakMb < 300, `peak RSS ${peakMb.toFixed(0)} MB stays under 300 MB`);
  });

  test('a 400 MiB container (1 MiB alerts, deflated to under 1 MB) is read block by block in bounded memory', () => {
    const schema = alertSchema([{ name: 'cutout', type: 'bytes' }]);
    const type = parseAvroType(schema);
    // One candid for all: the alerts are read, checked and offered to the store, which keeps one.
    const datum = type.toBuffer({ objectId: 'ZTF24large', candid: 7n, candidate: { jd: 2460000.5 }, cutout: Buffer.alloc(1 << 20) });
    const big = join(work, 'large.avro');
    writeFileSync(big, encodeContainer(schema, Array.from({ length: 400 }, () => datum), { codec: 'deflate', perBlock: 1 }));
    assert.ok(readFileSync(big).length < 1_000_000);
    const { report, peakMb } = ingestInChild(join(work, 'db-large'), [big]);
    assert.deepEqual(report.failed, []);
    assert.equal(report.alerts, 400);
    assert.equal(report.inserted, 1);
    assert.ok(peakMb < 300, `peak RSS ${peakMb.toFixed(0)} MB stays under 300 MB`);
  });

  test('a file larger than the memory budget still goes in whole, or not at all', () => {
    const type = parseAvroType(alertSchema());
    const datums = Array.from({ length: 30 }, (_, i) => head(1000n + BigInt(i)));
    const dir = join(work, 'db-twice');
    writeFileSync(join(work, 'whole.avro'), encodeContainer(alertSchema(), datums, { perBlock: 4 }));
    // The last alert has no objectId: the file is refused, and none of its 30 alerts is stored,
    // although the first ones fit several chunks.
    const bad = [...datums.slice(0, 29), type.toBuffer({ objectId: '', candid: 5n, candidate: { jd: 2460000.5 } })];
    writeFileSync(join(work, 'partial.avro'), encodeContainer(alertSchema(), bad, { perBlock: 4 }));
    const options = { keepBytes: 100, chunk: 3 };
    const refused = ingestPaths(dir, [join(work, 'partial.avro')], options);
    assert.equal(refused.failed.length, 1);
    assert.match(refused.failed[0]!.reason, /alert #30: alert 5 has no objectId/);
    const whole = ingestPaths(dir, [join(work, 'whole.avro')], options);
    assert.deepEqual(whole.failed, []);
    assert.equal(whole.inserted, 30);
    assert.deepEqual(storedCandids(dir), datums.map((_, i) => 1000n + BigInt(i)));
  });

  test('a header schema with a null field or nested 100,000 deep is named with the file; the others go in', (t) => {
    if (!haveRealData(t)) return;
    const datum = head(1n);
    const deepType = `${'{"type":'.repeat(100_000)}"int"${'}'.repeat(100_000)}`;
    const deepDoc = `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`;
    const schemas: [string, string][] = [
      ['nullfield.avro', JSON.stringify({ type: 'record', name: 'alert', fields: [null] })],
      ['deeptype.avro', `{"type":"record","name":"alert","fields":[{"name":"x","type":${deepType}}]}`],
      ['deepdoc.avro', `{"type":"record","name":"alert","doc":${deepDoc},"fields":[{"name":"x","type":"int"}]}`],
    ];
    for (const [name, text] of schemas) writeFileSync(join(work, name), encodeContainerBlocks(text, 'null', [{ count: 1, body: datum }]));
    const run = runCli('fink', ['ingest', ...schemas.map(([name]) => join(work, name)), join(ZTF_DATA, '472263571115115000.avro')], { SCIENCE_DB_PATH: join(work, 'db-schemas') });
    assert.equal(run.status, 1, run.stderr);
    assert.doesNotMatch(run.stderr, /unexpected error/);
    assert.match(run.stderr, /nullfield\.avro: its schema is invalid: field #1 of a record is null, not an object with a name/);
    assert.match(run.stderr, /deeptype\.avro: its schema is invalid: the schema nests more than 100 levels deep/);
    assert.match(run.stderr, /deepdoc\.avro: its schema is invalid: the schema nests more than 100 levels deep/);
    assert.match(run.stdout, /ingested 1 alerts from 1 file/);
  });

  test('control characters in a file name and in a reason are printed escaped, never raw', () => {
    const name = join(work, 'evil\u001b[2J\u009b\u202e.avro');
    writeFileSync(name, 'not avro');
    const run = runCli('fink', ['ingest', name], { SCIENCE_DB_PATH: join(work, 'db-names') });
    assert.equal(run.status, 1);
    assert.match(run.stderr, /evil\\x1b\[2J\\x9b\\u202e\.avro: not an Avro container file/);
    for (const raw of ['\u001b', '\u009b', '\u202e']) assert.equal(run.stderr.includes(raw), false, `no raw U+${raw.charCodeAt(0).toString(16)}`);
  });
});
