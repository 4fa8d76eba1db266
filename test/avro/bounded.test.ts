import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { checkDatum, DATUM_LIMITS, DatumError, schemaExpansion } from '../../src/avro/bounded.ts';
import { readContainer } from '../../src/avro/container.ts';
import { parseAvroType, sanitizeSchema, type AvroSchema } from '../../src/avro/schema.ts';
import { packageRoot } from '../../src/config/config.ts';
import { expandPaths } from '../../src/sciencedb/ingest.ts';
import { BUILDING_BOMBS } from '../helpers/building-bombs.ts';
import { FINK_DATA, haveLsstData, haveRealData, LSST_DATA, LSST_SAMPLES, ZTF_DATA } from '../helpers/data.ts';
import { varint } from '../helpers/hostile.ts';
import { realMessages } from '../helpers/wire.ts';

describe('the bounded check of a datum', () => {
  test('accepts every real alert, ending exactly where avsc does, and refuses each one cut short at any byte', (t) => {
    if (!haveRealData(t)) return;
    for (const { key, value } of realMessages()) {
      const type = parseAvroType(JSON.parse(key.toString()));
      assert.equal(checkDatum(type, value), type.decode(value, 0).offset);
      for (let cut = 0; cut < value.length; cut += 97) assert.throws(() => checkDatum(type, value.subarray(0, cut)), DatumError);
    }
  });

  test('a recursive schema nested past the limit, and zero-size items past the budget, are refused', () => {
    const list = parseAvroType({ type: 'record', name: 'node', fields: [{ name: 'next', type: ['null', 'node'] }] });
    const deep = Buffer.concat([Buffer.alloc(150, 2), Buffer.from([0])]); // 150 times branch 1, then null
    assert.throws(() => checkDatum(list, deep), /nested more than 100 levels deep/);
    assert.equal(checkDatum(list, deep.subarray(51)), 100); // 100 unions: at the limit
    const nulls = parseAvroType({ type: 'array', items: 'null' });
    assert.equal(checkDatum(nulls, Buffer.concat([varint(1000n), varint(0n)])), 3);
    assert.throws(() => checkDatum(nulls, Buffer.concat([varint(2n ** 40n), varint(0n)])), /more than 1000000 array or map items/);
    const empty = parseAvroType({ type: 'array', items: { type: 'record', name: 'e', fields: [] } });
    assert.throws(() => checkDatum(empty, Buffer.concat([varint(2n ** 21n), varint(0n)])), /more than 1000000/);
  });

  test('a union or enum index out of range and a negative length are refused', () => {
    assert.throws(() => checkDatum(parseAvroType(['null', 'int']), varint(2n)), /union index 2, the union has 2 branches/);
    assert.throws(() => checkDatum(parseAvroType({ type: 'enum', name: 'e', symbols: ['a'] }), varint(-1n)), /enum index -1/);
    assert.throws(() => checkDatum(parseAvroType('string'), varint(-5n)), /negative length/);
  });
});

describe('what decoding builds is bounded, whatever the bytes it reads', () => {
  for (const [index, bomb] of BUILDING_BOMBS.entries()) {
    test(`${bomb.name}: refused quickly, in a 64 MB heap`, () => {
      const child = join(packageRoot(), 'test', 'avro', 'building-child.ts');
      const started = performance.now();
      const run = spawnSync(process.execPath, ['--max-old-space-size=64', child, String(index)], { encoding: 'utf8', timeout: 120_000 });
      assert.equal(run.status, 0, `the child ended with status ${run.status} (signal ${run.signal}): ${run.stderr.slice(-600)}`);
      assert.match(run.stdout, /^refused: /);
      assert.match(run.stdout, bomb.refused);
      // Quickly: the walk stops at the budget (a second at most on a slow machine; 60 s is a hang).
      assert.ok(performance.now() - started < 60_000);
    });
  }

  test('every real schema expands to far less than the limit', (t) => {
    if (!haveRealData(t) || !haveLsstData(t)) return;
    const files = expandPaths([ZTF_DATA, FINK_DATA, ...LSST_SAMPLES]).files;
    const fink = JSON.parse(readFileSync(join(LSST_DATA, 'fink_lsst_distribution_schema_2026-03-18.json'), 'utf8')) as AvroSchema;
    const schemas = [...files.map((f) => readContainer(readFileSync(f)).schema), fink];
    for (const schema of schemas) {
      const n = schemaExpansion(parseAvroType(sanitizeSchema(schema)));
      assert.ok(n * 20 < DATUM_LIMITS.maxExpansion, `${n} nodes`);
    }
  });

  test('a real alert builds at most one value per byte it takes', (t) => {
    if (!haveRealData(t)) return;
    for (const { key, value } of realMessages()) {
      const type = parseAvroType(JSON.parse(key.toString()));
      assert.equal(checkDatum(type, value, 0, value.length, { ...DATUM_LIMITS, valuesBase: 0, valuesPerByte: 1 }), value.length);
    }
  });
});
