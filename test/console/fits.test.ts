import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { decode } from 'fast-png';
import { parseAvroType, sanitizeSchema, type RecordSchema } from '../../src/avro/schema.ts';
import { bufferSource, readContainer } from '../../src/avro/container.ts';
import { alertRow, cutoutBytes, CUTOUT_KINDS, lightCurve, surveyOf } from '../../src/console/alert-view.ts';
import { cutoutPng, stretch } from '../../src/console/cutout-png.ts';
import { FitsError, readFits } from '../../src/console/fits.ts';
import { createSimulation } from '../../src/sciencedb/simulate.ts';
import { haveRealData, SHARED_DATA, ZTF_DATA } from '../helpers/data.ts';

type Rec = Record<string, unknown>;

/** The first alert of an Avro container file, decoded with the file's schema. */
function firstAlert(file: string): { schema: RecordSchema; record: Rec } {
  const container = readContainer(bufferSource(readFileSync(file)));
  const schema = sanitizeSchema(container.schema as RecordSchema);
  const block = container.blocks().next().value!;
  return { schema, record: parseAvroType(schema).decode(block.data, 0).value as Rec };
}

/** A FITS file built by hand: cards padded to 2880 bytes, then big-endian data. */
function fits(cards: string[], data: Buffer): Buffer {
  const header = [...cards, 'END'].map((c) => c.padEnd(80)).join('');
  const pad = (b: Buffer, fill: number) => Buffer.concat([b, Buffer.alloc((2880 - (b.length % 2880)) % 2880, fill)]);
  return Buffer.concat([pad(Buffer.from(header, 'latin1'), 0x20), pad(data, 0)]);
}

describe('FITS cutouts', () => {
  test('the real ZTF cutouts: gzipped 63x63 BITPIX -32 images with finite pixels', (t) => {
    if (!haveRealData(t)) return;
    const { schema, record } = firstAlert(join(ZTF_DATA, '472263571115115000.avro'));
    assert.equal(surveyOf(schema), 'ztf');
    for (const kind of CUTOUT_KINDS) {
      const bytes = cutoutBytes('ztf', record, kind)!;
      assert.equal(bytes[0], 0x1f, `${kind} is gzipped`);
      const image = readFits(bytes, kind);
      assert.equal(image.header.get('BITPIX'), -32);
      assert.deepEqual([image.width, image.height], [63, 63]);
      const finite = image.pixels.filter(Number.isFinite);
      assert.ok(finite.length > 63 * 60, `${kind}: mostly finite pixels`);
      assert.ok(Math.max(...finite) > Math.min(...finite), `${kind}: not flat`);
      const png = decode(cutoutPng(image, kind));
      assert.deepEqual([png.width, png.height, png.channels], [63, 63, 1]);
      assert.ok(new Set(png.data).size > 20, `${kind}: the stretch spreads the pixels over many grey levels`);
    }
  });

  test('simulated ZTF cutouts: the source at the centre is the brightest part of the science image', () => {
    const sim = createSimulation({ profile: 'ztf', seed: 3, night: '20261125' });
    const record = parseAvroType(sim.alertSchema).fromBuffer(Buffer.from(sim.next().datum)) as Rec;
    const image = readFits(cutoutBytes('ztf', record, 'science')!, 'science');
    assert.deepEqual([image.width, image.height], [63, 63]);
    const centre = image.pixels[31 * 63 + 31]!;
    const corner = image.pixels[2 * 63 + 2]!;
    assert.ok(centre > corner, `centre ${centre} brighter than the corner ${corner}`);
    const png = decode(cutoutPng(image, 'science'));
    assert.ok(png.data[31 * 63 + 31]! > png.data[2 * 63 + 2]!);
  });

  test('the Rubin sample alert: plain FITS cutouts and its diaSource row', (t) => {
    if (!haveRealData(t)) return;
    const { schema, record } = firstAlert(join(SHARED_DATA, 'lsst', 'fakeAlert-v10_0.avro'));
    assert.equal(surveyOf(schema), 'rubin');
    const row = alertRow('rubin', record);
    assert.ok(row.source.length > 0 && row.time !== null && row.ra !== null);
    for (const kind of CUTOUT_KINDS) {
      const bytes = cutoutBytes('rubin', record, kind);
      if (bytes === null) continue;
      assert.notEqual(bytes[0], 0x1f, 'Rubin cutouts are not gzipped');
      const image = readFits(bytes, kind);
      assert.ok(image.width > 0 && image.height > 0);
      const png = decode(cutoutPng(image, kind));
      assert.deepEqual([png.width, png.height], [image.width, image.height]);
    }
    const curve = lightCurve('rubin', record);
    assert.ok(curve.bands.some((b) => b.points.length > 0));
  });

  test('integer images are scaled by BSCALE and BZERO, BLANK becomes NaN', () => {
    const data = Buffer.alloc(2 * 2 * 2);
    [0, 10, -5, -32768].forEach((v, i) => data.writeInt16BE(v, i * 2));
    const image = readFits(fits(['SIMPLE  =                    T', 'BITPIX  =                   16', 'NAXIS   =                    2', 'NAXIS1  =                    2', 'NAXIS2  =                    2', 'BSCALE  =                  0.5', 'BZERO   =                  100', 'BLANK   =               -32768'], data));
    assert.deepEqual([...image.pixels].slice(0, 3), [100, 105, 97.5]);
    assert.ok(Number.isNaN(image.pixels[3]));
    const d64 = Buffer.alloc(8 * 2);
    d64.writeDoubleBE(1.25, 0);
    d64.writeDoubleBE(-2.5, 8);
    const wide = readFits(gzipSync(fits(['SIMPLE  =                    T', 'BITPIX  =                  -64', 'NAXIS   =                    2', 'NAXIS1  =                    2', 'NAXIS2  =                    1'], d64)));
    assert.deepEqual([...wide.pixels], [1.25, -2.5]);
    const i32 = Buffer.alloc(4);
    i32.writeInt32BE(-70000);
    assert.deepEqual([...readFits(fits(['SIMPLE  =                    T', 'BITPIX  =                   32', 'NAXIS   =                    2', 'NAXIS1  =                    1', 'NAXIS2  =                    1'], i32)).pixels], [-70000]);
  });

  test('the difference image is stretched symmetrically: zero residual is mid-grey', () => {
    const pixels = new Float64Array(121).map((_, i) => (i % 11) - 5);
    const values = stretch({ width: 11, height: 11, pixels, header: new Map() }, true);
    assert.equal(values[5], 0.5);
    for (let i = 0; i < 121; i++) assert.ok(Math.abs(values[i]! - (1 - values[10 - (i % 11) + Math.floor(i / 11) * 11]!)) < 1e-12, 'opposite residuals get mirrored greys');
  });

  test('broken FITS is refused with a message naming the cutout', () => {
    assert.throws(() => readFits(Buffer.from('not a fits file'.padEnd(2880)), 'alert 7 science'), (err: unknown) => err instanceof FitsError && /alert 7 science: not a FITS file/.test(err.message));
    const header = ['SIMPLE  =                    T', 'BITPIX  =                  -32', 'NAXIS   =                    2', 'NAXIS1  =                   63', 'NAXIS2  =                   63'];
    assert.throws(() => readFits(fits(header, Buffer.alloc(100))), /cut short/);
    assert.throws(() => readFits(Buffer.from(['SIMPLE  =                    T'.padEnd(80)].join('').padEnd(2880))), /no END card/);
    assert.throws(() => readFits(Buffer.from([0x1f, 0x8b, 1, 2, 3])), /does not inflate/);
  });

  test('ZTF light curve: detections per band, upper limits apart', (t) => {
    if (!haveRealData(t)) return;
    const { record } = firstAlert(join(ZTF_DATA, '472263571115115000.avro'));
    const curve = lightCurve('ztf', record);
    assert.equal(curve.inverted, true);
    const prv = (record.prv_candidates as Rec[] | null) ?? [];
    const detections = prv.filter((c) => c.magpsf !== null).length + 1;
    const limits = prv.filter((c) => c.magpsf === null && c.diffmaglim !== null).length;
    assert.equal(curve.bands.reduce((n, b) => n + b.points.length, 0), detections);
    assert.equal(curve.bands.reduce((n, b) => n + b.limits.length, 0), limits);
  });
});
