import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkDatum, DatumError } from '../../src/avro/bounded.ts';
import { parseAvroType } from '../../src/avro/schema.ts';
import { haveRealData } from '../helpers/data.ts';
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
