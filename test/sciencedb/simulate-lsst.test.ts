import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseAvroType, schemaFingerprint, type AvroSchema } from '../../src/avro/schema.ts';
import { dayObsOfMjdTai } from '../../src/alert/lsst-fields.ts';
import { lsstFields } from '../../src/alert/survey.ts';
import { lsstAlertSchema } from '../../src/sciencedb/lsst-schema.ts';
import { createSimulation } from '../../src/sciencedb/simulate.ts';
import type { AnyProfile } from '../../src/sciencedb/simulation.ts';
import { runCli } from '../helpers/cli.ts';
import { haveSharedData, SHARED_DATA } from '../helpers/data.ts';
import { tempDir } from '../helpers/temp.ts';

const alerts = (profile: AnyProfile, seed: number, count: number) => {
  const sim = createSimulation({ profile, seed, night: '20260318' });
  return Array.from({ length: count }, () => sim.next());
};

/** The published lsst.v10_0 alert schema, its named records written in place. */
function publishedV10(dir: string): AvroSchema {
  const named = new Map<string, unknown>();
  for (const r of ['diaSource', 'diaForcedSource', 'diaObject', 'ssSource', 'mpc_orbits']) named.set(`lsst.v10_0.${r}`, JSON.parse(readFileSync(join(dir, `lsst.v10_0.${r}.avsc`), 'utf8')));
  const seen = new Set<string>();
  const inline = (t: unknown): unknown => {
    if (typeof t === 'string' && named.has(t) && !seen.has(t)) {
      seen.add(t);
      return inline(named.get(t));
    }
    if (Array.isArray(t)) return t.map(inline);
    if (t === null || typeof t !== 'object') return t;
    const o = t as Record<string, unknown>;
    const fields = Array.isArray(o.fields) ? { fields: (o.fields as Record<string, unknown>[]).map((f) => ({ ...f, type: inline(f.type) })) } : {};
    return { ...o, ...fields, ...(o.items === undefined ? {} : { items: inline(o.items) }) };
  };
  return inline(JSON.parse(readFileSync(join(dir, 'lsst.v10_0.alert.avsc'), 'utf8'))) as AvroSchema;
}

describe('simulated Rubin alerts', () => {
  test("the schema written in the repository is Rubin's lsst.v10_0 (same Parsing Canonical Form)", (t) => {
    const dir = join(SHARED_DATA, 'lsst', 'schema', '10', '0');
    if (!haveSharedData(t, dir, "Rubin's schemas")) return;
    assert.equal(schemaFingerprint(parseAvroType(lsstAlertSchema())), schemaFingerprint(parseAvroType(publishedV10(dir))));
  });

  test('the same seed and night give the same alerts, byte for byte; another seed other alerts', () => {
    const a = alerts('lsst', 11, 30);
    const b = alerts('lsst', 11, 30);
    const c = alerts('lsst', 12, 30);
    for (let i = 0; i < 30; i++) {
      assert.ok(Buffer.from(a[i]!.datum).equals(Buffer.from(b[i]!.datum)), `alert ${i}`);
      assert.ok(Buffer.from(a[i]!.added!.datum).equals(Buffer.from(b[i]!.added!.datum)));
    }
    assert.notEqual(a[0]!.alertId, c[0]!.alertId);
    assert.ok(!Buffer.from(a[5]!.datum).equals(Buffer.from(c[5]!.datum)));
  });

  test('lsst: about 150 to 200 KB an alert, plain FITS cutouts, histories up to a few hundred; lsst-light without them', () => {
    const full = alerts('lsst', 3, 400);
    const type = parseAvroType(JSON.parse(full[0]!.schemaJson) as AvroSchema);
    const mean = full.reduce((sum, a) => sum + a.datum.length, 0) / full.length;
    assert.ok(mean > 150_000 && mean < 200_000, `mean ${mean.toFixed(0)} bytes`);
    let longest = 0;
    for (const alert of full) {
      const v = type.fromBuffer(Buffer.from(alert.datum)) as Record<string, unknown>;
      for (const cutout of ['cutoutDifference', 'cutoutScience', 'cutoutTemplate']) {
        const fits = v[cutout] as Buffer;
        assert.equal(fits.subarray(0, 30).toString('latin1'), 'SIMPLE  =                    T', 'plain FITS, not gzipped');
        assert.equal(fits.length % 2880, 0, 'FITS blocks of 2880 bytes');
      }
      const prv = v.prvDiaSources as unknown[];
      longest = Math.max(longest, prv.length);
      assert.equal(lsstFields(alert).nDiaSources, prv.length);
    }
    assert.ok(longest >= 100 && longest <= 300, `longest history ${longest}`);
    const light = alerts('lsst-light', 3, 400);
    for (const alert of light) {
      const v = type.fromBuffer(Buffer.from(alert.datum)) as Record<string, unknown>;
      assert.deepEqual([v.cutoutScience, v.prvDiaSources, v.prvDiaForcedSources], [null, null, null]);
      assert.ok(alert.datum.length < 3000, `${alert.datum.length} bytes`);
    }
  });

  test('realistic values: bands ugrizy, fluxes in nJy with errors, the night as dayObs, solar-system sources keyed apart', () => {
    const sample = alerts('lsst-light', 4, 3000);
    const bands = new Set(sample.map((a) => lsstFields(a).band));
    assert.deepEqual([...bands].sort(), ['g', 'i', 'r', 'u', 'y', 'z']);
    for (const a of sample) {
      const f = lsstFields(a);
      assert.ok(f.psfFluxErr! > 0 && Math.abs(f.psfFlux!) > 0 && f.dec! < 35, `alert ${a.alertId}`);
      assert.ok(a.alertId > 2n ** 53n);
      assert.equal(a.night, '20260318');
      assert.equal(dayObsOfMjdTai(f.midpointMjdTai!), a.night, 'the exposure falls in the night it is stored in');
    }
    const sso = sample.filter((a) => lsstFields(a).ssObjectId !== null);
    assert.ok(sso.length > 30 && sso.length < 200, `${sso.length} solar-system sources of 3000`);
    assert.ok(sso.every((a) => a.objectKey.startsWith('ss:') && lsstFields(a).diaObjectId === null));
  });

  test('fink simulate --survey lsst fills the science database; fink db stats counts alerts per survey', () => {
    const env = { SCIENCE_DB_PATH: tempDir('simulate-lsst') };
    assert.equal(runCli('fink', ['simulate', '--survey', 'lsst', '--profile', 'lsst-light', '--count', '50', '--night', '20260318'], env).status, 0);
    assert.equal(runCli('fink', ['simulate', '--count', '20', '--night', '20260318', '--profile', 'ztf-light'], env).status, 0);
    const stats = runCli('fink', ['db', 'stats', '--json'], env);
    const json = JSON.parse(stats.stdout) as { surveys: Record<string, number>; nights: Record<string, { surveys: Record<string, number> }> };
    assert.deepEqual(json.surveys, { lsst: 50, ztf: 20 });
    assert.deepEqual(json.nights['20260318']!.surveys, { lsst: 50, ztf: 20 });
    const wrong = runCli('fink', ['simulate', '--survey', 'lsst', '--profile', 'ztf', '--count', '1'], env);
    assert.equal(wrong.status, 2);
    assert.match(wrong.stderr, /--profile is one of lsst, lsst-light for --survey lsst, got 'ztf'/);
  });
});
