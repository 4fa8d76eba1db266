// The light value of an alert (a topic that drops fields): cut out of the stored datum
// (src/avro/field-spans.ts), the same bytes as decoding it with the light schema and encoding again.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { rmSync } from 'node:fs';
import { fieldEnds, SpanError } from '../../src/avro/field-spans.ts';
import { parseAvroType } from '../../src/avro/schema.ts';
import { LIGHT_DROP } from '../../src/distribution/user-topics.ts';
import { WireSchemas, type SendableAlert } from '../../src/distribution/wire.ts';
import { openReader, type AlertReader, type StoredAlert } from '../../src/sciencedb/reader.ts';
import { simulateIntoDb } from '../../src/sciencedb/simulate.ts';
import { tempDir } from '../helpers/temp.ts';

/** The light value as the distribution made it before: decoded with the light schema as reader, encoded again. */
function reencoded(wire: WireSchemas, alert: SendableAlert, drop: readonly string[]): Buffer {
  const full = parseAvroType(wire.forAlert(alert).schema);
  const light = parseAvroType(wire.forAlert(alert, drop).schema);
  return light.toBuffer(light.fromBuffer(Buffer.from(alert.wire), light.createResolver(full)));
}

const ZTF_CUTOUTS = ['cutoutScience', 'cutoutTemplate', 'cutoutDifference'];

describe('light values', () => {
  const dirs: string[] = [];
  const readers: AlertReader[] = [];
  const alerts: Record<'ztf' | 'lsst', { stored: StoredAlert[]; wire: WireSchemas }> = {} as never;

  before(() => {
    for (const [survey, profile] of [['ztf', 'ztf'], ['lsst', 'lsst']] as const) {
      const dir = tempDir(`wire-${survey}`);
      dirs.push(dir);
      simulateIntoDb(dir, { profile, seed: 17, night: '20261205' }, 30);
      const reader = openReader(dir);
      readers.push(reader);
      alerts[survey] = { stored: reader.read({}, 30).alerts, wire: new WireSchemas((id) => reader.schemaJson(id)) };
    }
  });
  after(() => {
    for (const r of readers) r.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  for (const [survey, drops] of [['ztf', [LIGHT_DROP.ztf, ZTF_CUTOUTS]], ['lsst', [LIGHT_DROP.lsst]]] as const) {
    test(`${survey}: a light value is byte for byte what decoding and encoding again gave, for every alert`, () => {
      const { stored, wire } = alerts[survey];
      assert.equal(stored.length, 30);
      for (const drop of drops) {
        for (const alert of stored) {
          const value = wire.forAlert(alert, drop).encode(alert);
          assert.ok(value.length < alert.wire.length, `${alert.alertId}: smaller than the full datum`);
          assert.deepEqual(value, reencoded(wire, alert, drop), `${survey} alert ${alert.alertId} without ${drop.join(',')}`);
        }
      }
    });
  }

  test('a light value whose kept fields are contiguous is a view of the stored datum, not a new encoding', () => {
    const { stored, wire } = alerts.ztf;
    const full = wire.forAlert(stored[0]!).schema.fields.map((f) => f.name);
    // ZTF's cutouts come after the fields it keeps, then the added values: two runs. Dropping the last field leaves one.
    const last = [full.at(-1)!];
    for (const alert of stored) {
      const value = wire.forAlert(alert, last).encode(alert);
      assert.equal(value.buffer, alert.wire.buffer, `${alert.alertId}: the stored bytes themselves`);
      assert.deepEqual(value, reencoded(wire, alert, last));
    }
  });

  test('a datum that does not hold its schema is not cut: the decode refuses it as before', () => {
    const { stored, wire } = alerts.lsst;
    const alert = stored[0]!;
    const truncated = { ...alert, wire: alert.wire.subarray(0, alert.wire.length - 7) };
    assert.throws(() => wire.forAlert(truncated, LIGHT_DROP.lsst).encode(truncated), /truncated|invalid|bytes/i);
  });
});

describe('fieldEnds', () => {
  const type = parseAvroType({
    type: 'record', name: 'r', fields: [
      { name: 'a', type: { type: 'array', items: 'long' } },
      { name: 'b', type: 'string' },
      { name: 'c', type: { type: 'map', values: 'bytes' } },
      { name: 'd', type: ['null', { type: 'record', name: 'inner', fields: [{ name: 'x', type: { type: 'fixed', name: 'three', size: 3 } }, { name: 'y', type: { type: 'enum', name: 'e', symbols: ['p', 'q'] } }, { name: 'next', type: ['null', 'inner'] }] }] },
      { name: 'e', type: 'float' },
      { name: 'f', type: 'double' },
      { name: 'g', type: 'boolean' },
    ],
  });

  test('finds each field of a datum written by another writer (an array in two blocks, one with its byte size), recursive records included', () => {
    const datum = Buffer.from([
      // a: a block of -2 items (zig-zag 3) of 2 bytes (4), then a block of 1 (2), then the end.
      0x03, 0x04, 0x02, 0x04, 0x02, 0x06, 0x00,
      // b: "hi"
      0x04, 0x68, 0x69,
      // c: one entry "k" -> bytes [9], the end.
      0x02, 0x02, 0x6b, 0x02, 0x09, 0x00,
      // d: branch 1, inner { x: 3 bytes, y: q, next: branch 1, inner { x, y: p, next: null } }
      0x02, 1, 2, 3, 0x02, 0x02, 4, 5, 6, 0x00, 0x00,
      // e, f, g
      0, 0, 0x80, 0x3f, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0x01,
    ]);
    assert.deepEqual(fieldEnds(type)!(datum), [7, 10, 16, 27, 31, 39, 40]);
    assert.deepEqual(type.fromBuffer(datum).b, 'hi', 'avsc reads the same datum');
  });

  test('a datum cut short or with bytes after it is a SpanError', () => {
    const ends = fieldEnds(type)!;
    const datum = type.toBuffer({ a: [1n], b: 'x', c: {}, d: null, e: 1, f: 2, g: true });
    assert.equal(ends(datum).at(-1), datum.length);
    assert.throws(() => ends(datum.subarray(0, datum.length - 1)), SpanError);
    assert.throws(() => ends(Buffer.concat([datum, Buffer.from([0])])), SpanError);
  });
});
