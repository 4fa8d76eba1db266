import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { projectType } from '../../src/avro/projection.ts';
import { parseAvroType, type AvroSchema } from '../../src/avro/schema.ts';

// A writer schema shaped as Rubin's: a named record read in full in one place (the triggering
// source) and defined once, then referred to by name in an array (the history).
const SOURCE = { type: 'record', name: 'source', namespace: 'survey.v1', fields: [
  { name: 'id', type: 'long' },
  { name: 'flux', type: ['null', 'float'] },
  { name: 'band', type: ['null', 'string'] },
  { name: 'pixels', type: 'bytes' },
] };
const WRITER = parseAvroType({ type: 'record', name: 'alert', namespace: 'survey.v1', fields: [
  { name: 'alertId', type: 'long' },
  { name: 'source', type: SOURCE },
  { name: 'history', type: ['null', { type: 'array', items: 'survey.v1.source' }] },
  { name: 'cutout', type: ['null', 'bytes'] },
  { name: 'tags', type: { type: 'array', items: 'string' } },
] } as AvroSchema);

const ALERT = {
  alertId: 2n ** 62n + 3n,
  source: { id: 2n ** 60n + 1n, flux: 0.1, band: 'g', pixels: Buffer.alloc(1000, 7) },
  history: [{ id: 1n, flux: null, band: null, pixels: Buffer.alloc(10) }, { id: 2n, flux: 3.5, band: 'r', pixels: Buffer.alloc(20) }],
  cutout: Buffer.alloc(5000, 1),
  tags: ['a', 'b', 'c'],
};

describe('decoding only the values a caller reads', () => {
  test('the values read are those of the full decode, bigint longs and 32-bit floats alike; the rest is not built', () => {
    const p = projectType(WRITER, { alertId: 'all', source: { id: 'all', flux: 'all', band: 'all' } })!;
    const datum = WRITER.toBuffer(ALERT);
    const full = WRITER.fromBuffer(datum) as typeof ALERT;
    const { value, offset } = p.reader.decode(datum, 0, p.resolver) as { value: Record<string, unknown>; offset: number };
    assert.equal(offset, datum.length);
    assert.deepEqual({ ...value, source: { ...(value.source as object) } }, { alertId: full.alertId, source: { id: full.source.id, flux: full.source.flux, band: 'g' } });
    // The float as Avro stores it (32 bits), not the JS number written.
    assert.equal((value.source as { flux: number }).flux, Math.fround(0.1));
    assert.equal(typeof value.alertId, 'bigint');
  });

  test("an array's length alone: a named record read in full in one place is read as empty records in another", () => {
    const p = projectType(WRITER, { source: { id: 'all' }, history: 'count', tags: 'count' })!;
    const value = p.reader.decode(WRITER.toBuffer(ALERT), 0, p.resolver).value as { source: { id: bigint }; history: object[]; tags: string[] };
    assert.equal(value.source.id, ALERT.source.id);
    assert.deepEqual(value.history.map((h) => ({ ...h })), [{}, {}]);
    assert.deepEqual(value.tags, ['a', 'b', 'c']);
    // An absent array stays null.
    const none = p.reader.decode(WRITER.toBuffer({ ...ALERT, history: null }), 0, p.resolver).value as { history: unknown };
    assert.equal(none.history, null);
  });

  test('a field asked for that the writer does not have is left out, as the full decode leaves it out', () => {
    const p = projectType(WRITER, { alertId: 'all', clf: { score: 'all' }, source: { id: 'all', snr: 'all' } })!;
    const value = p.reader.decode(WRITER.toBuffer(ALERT), 0, p.resolver).value as Record<string, unknown>;
    assert.equal('clf' in value, false);
    assert.deepEqual({ ...(value.source as object) }, { id: ALERT.source.id });
  });

  test('a shape the projection does not take gives no projection (the caller decodes in full)', () => {
    // A record asked for whole, or a primitive asked for its fields.
    assert.equal(projectType(WRITER, { source: 'all' }), undefined);
    assert.equal(projectType(WRITER, { alertId: { x: 'all' } }), undefined);
    // A wrapped union names its branch in the value: the projection would rename it.
    const wrapped = parseAvroType({ type: 'record', name: 'w', fields: [{ name: 'u', type: ['null', { type: 'record', name: 'a', fields: [{ name: 'x', type: 'int' }] }, { type: 'record', name: 'b', fields: [{ name: 'x', type: 'int' }] }] }] } as AvroSchema);
    assert.equal(projectType(wrapped, { u: { x: 'all' } }), undefined);
  });
});
