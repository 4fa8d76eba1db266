import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { parseAvroType, type AvroType } from '../../src/avro/schema.ts';
import { ingestPaths } from '../../src/sciencedb/ingest.ts';
import { openReader } from '../../src/sciencedb/reader.ts';
import { createSimulation, simulateIntoDb } from '../../src/sciencedb/simulate.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/temp.ts';
import { ztfFields } from '../../src/alert/survey.ts';

type Rec = Record<string, unknown>;

describe('simulated alerts', () => {
  test('the same seed and night give the same alerts; another seed gives others', () => {
    const a = createSimulation({ profile: 'ztf', seed: 7, night: '20261125' });
    const b = createSimulation({ profile: 'ztf', seed: 7, night: '20261125' });
    const c = createSimulation({ profile: 'ztf', seed: 8, night: '20261125' });
    for (let i = 0; i < 50; i++) {
      const [x, y, z] = [a.next(), b.next(), c.next()];
      assert.ok(Buffer.from(x.datum).equals(Buffer.from(y.datum)), `alert ${i} identical`);
      assert.ok(Buffer.from(x.added!.datum).equals(Buffer.from(y.added!.datum)));
      assert.ok(!Buffer.from(x.datum).equals(Buffer.from(z.datum)), `alert ${i} differs with another seed`);
    }
  });

  test('ztf: the 4.02 shape, plausible values, 64-bit candids, 0-30 history, three ~13 KB gzipped 63x63 FITS stamps', () => {
    const sim = createSimulation({ profile: 'ztf', seed: 1, night: '20261125' });
    const alertType = parseAvroType(sim.alertSchema);
    const addedType = parseAvroType(sim.addedSchema);
    let previous = 0n;
    let lastJd = 0;
    let bytes = 0;
    const n = 200;
    for (let i = 0; i < n; i++) {
      const alert = sim.next();
      const v = alertType.fromBuffer(Buffer.from(alert.datum)) as Rec;
      const cand = v.candidate as Rec;
      assert.equal(v.schemavsn, '4.02');
      assert.equal(typeof v.candid, 'bigint');
      assert.ok((v.candid as bigint) > 2n ** 53n && (v.candid as bigint) > previous, 'candid above 2^53 and increasing');
      previous = v.candid as bigint;
      assert.ok((cand.jd as number) > lastJd, 'jd increases');
      lastJd = cand.jd as number;
      assert.ok((cand.magpsf as number) >= 14 && (cand.magpsf as number) <= 21);
      assert.ok([1, 2, 3].includes(cand.fid as number));
      assert.ok((cand.ra as number) >= -0.01 && (cand.ra as number) <= 360.01 && (cand.dec as number) >= -31 && (cand.dec as number) <= 90);
      assert.ok((v.prv_candidates as Rec[]).length <= 30);
      for (const key of ['cutoutScience', 'cutoutTemplate', 'cutoutDifference']) {
        const stamp = (v[key] as Rec).stampData as Buffer;
        assert.ok(stamp.length > 10_000 && stamp.length < 17_000, `${key} is ${stamp.length} bytes`);
        const fits = gunzipSync(stamp);
        assert.match(fits.subarray(0, 80).toString('latin1'), /^SIMPLE {2}=\s+T/);
        assert.match(fits.subarray(0, 2880).toString('latin1'), /NAXIS1 {2}=\s+63 .*NAXIS2 {2}=\s+63 /s);
        assert.equal(fits.length % 2880, 0);
      }
      // The typed columns are the alert's and its added values'.
      const added = addedType.fromBuffer(Buffer.from(alert.added!.datum)) as Rec;
      assert.equal(alert.alertId, v.candid);
      assert.equal(alert.objectKey, v.objectId);
      assert.equal(ztfFields(alert).magpsf, cand.magpsf);
      assert.equal(ztfFields(alert).rf_snia_vs_nonia, added.rf_snia_vs_nonia);
      assert.equal(ztfFields(alert).cdsxmatch, added.cdsxmatch);
      bytes += alert.datum.length + alert.added!.datum.length;
    }
    const avg = bytes / n;
    assert.ok(avg > 35_000 && avg < 65_000, `about 45 KB per alert like the real ones, got ${avg}`);
  });

  test('ztf-light: same schema, no cutouts, no history, under 2 KB', () => {
    const sim = createSimulation({ profile: 'ztf-light', seed: 1, night: '20261125' });
    const type = parseAvroType(sim.alertSchema);
    for (let i = 0; i < 100; i++) {
      const alert = sim.next();
      const v = type.fromBuffer(Buffer.from(alert.datum)) as Rec;
      assert.equal(v.cutoutScience, null);
      assert.equal(v.prv_candidates, null);
      assert.ok(alert.datum.length + alert.added!.datum.length < 2000);
    }
  });

  test('the added values make the science cases select small realistic fractions', () => {
    const sim = createSimulation({ profile: 'ztf-light', seed: 3, night: '20261125' });
    const n = 20_000;
    let sn = 0, sso = 0, mulens = 0;
    for (let i = 0; i < n; i++) {
      const f = ztfFields(sim.next());
      if ((f.rf_snia_vs_nonia ?? 0) > 0.5 && (f.snn_snia_vs_nonia ?? 0) > 0.5) sn++;
      if (f.roid === 3) sso++;
      if ((f.mulens ?? 0) > 0.5) mulens++;
    }
    for (const [name, count] of [['SN', sn], ['solar system', sso], ['microlensing', mulens]] as const) {
      const fraction = count / n;
      assert.ok(fraction > 0.002 && fraction < 0.1, `${name}: ${(fraction * 100).toFixed(2)} % of alerts`);
    }
  });
});

describe('the science database round trip', () => {
  test('simulated alerts read back after a checkpoint, in batches, field for field', () => {
    const dir = tempDir('simdb');
    assert.equal(simulateIntoDb(dir, { profile: 'ztf', seed: 5, night: '20261125' }, 1200), 1200);
    assert.equal(simulateIntoDb(dir, { profile: 'ztf', seed: 5, night: '20261125' }, 1200), 0, 'the same alerts again: nothing new');
    const expected = createSimulation({ profile: 'ztf', seed: 5, night: '20261125' });
    const reader = openReader(dir);
    let checkpoint = {};
    let seen = 0;
    let types: { alert: AvroType; added: AvroType } | undefined;
    for (;;) {
      const { alerts, checkpoint: next } = reader.read(checkpoint, 500);
      if (alerts.length === 0) break;
      assert.ok(alerts.length <= 500);
      for (const alert of alerts) {
        const want = expected.next();
        types ??= { alert: parseAvroType(JSON.parse(reader.schemaJson(alert.schemaId))), added: parseAvroType(JSON.parse(reader.schemaJson(alert.added!.schemaId))) };
        assert.ok(Buffer.from(alert.datum).equals(Buffer.from(want.datum)), `alert ${seen} bytes identical`);
        assert.ok(Buffer.from(alert.added!.datum).equals(Buffer.from(want.added!.datum)));
        assert.deepEqual(alert.fields, want.fields);
        seen++;
      }
      assert.equal(reader.lag(next), 1200 - seen);
      checkpoint = next;
    }
    assert.equal(seen, 1200);
    reader.close();
  });

  test('fink simulate --out writes Avro files that fink ingest reads back as the same alerts', () => {
    const out = tempDir('simfiles');
    const dir = tempDir('simfiles-db');
    const run = runCli('fink', ['simulate', '--count', '20', '--seed', '4', '--night', '20261120', '--out', out], {});
    assert.equal(run.status, 0, run.stderr);
    const files = readdirSync(out).filter((f) => f.endsWith('.avro'));
    assert.equal(files.length, 20);
    const report = ingestPaths(dir, [out]);
    assert.deepEqual(report.failed, []);
    assert.equal(report.inserted, 20);
    const sim = createSimulation({ profile: 'ztf', seed: 4, night: '20261120' });
    const full = parseAvroType(sim.fullSchema);
    const reader = openReader(dir);
    const { alerts } = reader.read({}, 100);
    for (const stored of alerts) {
      const want = sim.next();
      assert.ok(Buffer.from(stored.datum).equals(Buffer.concat([want.datum, want.added!.datum])), 'the file holds the alert followed by its added values');
      const v = full.fromBuffer(Buffer.from(stored.datum)) as Rec;
      assert.equal(v.candid, want.alertId);
      assert.equal(ztfFields(stored).cdsxmatch, ztfFields(want).cdsxmatch);
      assert.ok(readFileSync(join(out, `${want.alertId}.avro`)).length > 30_000);
    }
    reader.close();
  });

  test('fink simulate checks its flags', () => {
    assert.equal(runCli('fink', ['simulate'], {}).status, 2);
    assert.match(runCli('fink', ['simulate', '--count', '5', '--profile', 'rubin'], {}).stderr, /--profile is one of ztf, ztf-light/);
    assert.match(runCli('fink', ['simulate', '--count', '5', '--night', '2026-11-25'], {}).stderr, /--night is YYYYMMDD/);
  });
});
