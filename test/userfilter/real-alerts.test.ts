// Compiled conditions against an independent evaluation, alert by alert: the real alerts of
// ../shared/data and simulated ones (with Fink's added values), decoded by avsc's own container
// reader; the condition compiled by the project runs on the typed fields, its twin is plain
// JavaScript over the decoded record, written out here with SQL's NULL rule by hand.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { extractFields } from '../../src/alert/fields.ts';
import { extractLsstFields } from '../../src/alert/lsst-fields.ts';
import type { Survey } from '../../src/alert/survey.ts';
import { compileCondition } from '../../src/userfilter/condition.ts';
import { runCli } from '../helpers/cli.ts';
import { decodeIndependently, FINK_DATA, haveLsstData, haveRealData, LSST_SAMPLES, realDataPresent, ZTF_DATA } from '../helpers/data.ts';
import { tempDir } from '../helpers/temp.ts';

type Rec = Record<string, unknown>;
type Twin = (alert: Rec) => boolean;

const num = (v: unknown): v is number => typeof v === 'number' && !Number.isNaN(v);

/** ZTF conditions and their twins over the decoded alert (`candidate` and Fink's top-level values). */
const ZTF_CASES: [string, Twin][] = [
  ['magpsf < 18 AND fid = 1', (a) => { const c = a.candidate as Rec; return num(c.magpsf) && c.magpsf < 18 && c.fid === 1; }],
  ["drb > 0.9 OR isdiffpos = 'f'", (a) => { const c = a.candidate as Rec; return (num(c.drb) && c.drb > 0.9) || c.isdiffpos === 'f'; }],
  ['ndethist BETWEEN 2 AND 10 AND NOT sgscore1 > 0.5', (a) => { const c = a.candidate as Rec; return num(c.ndethist) && c.ndethist >= 2 && c.ndethist <= 10 && num(c.sgscore1) && !(c.sgscore1 > 0.5); }],
  ["cdsxmatch IN ('Unknown', 'SN', 'Candidate_SN*') AND rb >= 0.5", (a) => { const c = a.candidate as Rec; return ['Unknown', 'SN', 'Candidate_SN*'].includes(a.cdsxmatch as string) && num(c.rb) && c.rb >= 0.5; }],
  ['abs(ra - 180) > 90 OR dec < -10', (a) => { const c = a.candidate as Rec; return (num(c.ra) && Math.abs(c.ra - 180) > 90) || (num(c.dec) && c.dec < -10); }],
  ['classtar IS NULL OR distpsnr1 < 2', (a) => { const c = a.candidate as Rec; return c.classtar === null || (num(c.distpsnr1) && c.distpsnr1 < 2); }],
  ['sqrt(power(sigmapsf, 2) + 0.01) < 0.15 AND magpsf - 2 * sigmapsf > 15', (a) => { const c = a.candidate as Rec; return num(c.sigmapsf) && Math.sqrt(c.sigmapsf ** 2 + 0.01) < 0.15 && num(c.magpsf) && c.magpsf - 2 * c.sigmapsf > 15; }],
  ["objectId LIKE 'ZTF18%' OR mulens > 0.5", (a) => (a.objectId as string).startsWith('ZTF18') || (num(a.mulens) && a.mulens > 0.5)],
  ['coalesce(snn_sn_vs_all, 0) > 0.5 OR roid IN (1, 2, 3)', (a) => (num(a.snn_sn_vs_all) ? a.snn_sn_vs_all : 0) > 0.5 || [1, 2, 3].includes(a.roid as number)],
];

const source = (a: Rec) => a.diaSource as Rec;
const pred = (a: Rec) => (a.pred ?? null) as Rec | null;

/** Rubin conditions and their twins over the decoded alert (`diaSource`, Fink's `pred`, `clf`). */
const LSST_CASES: [string, Twin][] = [
  ["psfFlux > 10000 AND band IN ('g', 'r')", (a) => { const s = source(a); return num(s.psfFlux) && s.psfFlux > 10000 && (s.band === 'g' || s.band === 'r'); }],
  ['reliability > 0.8 OR is_sso', (a) => { const s = source(a); return (num(s.reliability) && s.reliability > 0.8) || pred(a)?.is_sso === true; }],
  ['snr BETWEEN 5 AND 50 AND NOT isDipole', (a) => { const s = source(a); return num(s.snr) && s.snr >= 5 && s.snr <= 50 && s.isDipole === false; }],
  ['31.4 - 2.5 * log10(psfFlux) < 21', (a) => { const s = source(a); return num(s.psfFlux) && s.psfFlux > 0 && 31.4 - 2.5 * Math.log10(s.psfFlux) < 21; }],
  ['snnSnVsOthers_score > 0.5 AND NOT is_sso', (a) => { const clf = (a.clf ?? null) as Rec | null; return num(clf?.snnSnVsOthers_score) && (clf.snnSnVsOthers_score as number) > 0.5 && pred(a)?.is_sso === false; }],
];

async function decodeFolder(dir: string): Promise<Rec[]> {
  const alerts: Rec[] = [];
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.avro')).sort()) alerts.push(...(await decodeIndependently(join(dir, name))).values);
  return alerts;
}

function simulate(survey: Survey, profile: string): string {
  const out = join(tempDir('userfilter-sim'), survey);
  const run = runCli('fink', ['simulate', '--survey', survey, '--profile', profile, '--count', '400', '--seed', '23', '--night', '20260101', '--out', out], {});
  assert.equal(run.status, 0, run.stderr);
  return out;
}

function compare(survey: Survey, cases: [string, Twin][], alerts: Rec[], fields: (a: Rec) => object): void {
  for (const [text, twin] of cases) {
    const condition = compileCondition(text, survey);
    let matched = 0;
    for (const a of alerts) {
      const want = twin(a);
      assert.equal(condition.test(fields(a) as never), want, `${text}: alert ${String(a.candid ?? (a.diaSource as Rec | undefined)?.diaSourceId)}`);
      if (want) matched++;
    }
    // A condition that matched every alert, or none, would say little.
    assert.ok(matched > 0 && matched < alerts.length, `${text} matches ${matched} of ${alerts.length}: choose a selective one`);
  }
}

describe('compiled conditions agree with an independent evaluation on real and simulated alerts', () => {
  let ztf: Rec[] = [];
  let lsst: Rec[] = [];
  before(async () => {
    const real = realDataPresent() ? [...(await decodeFolder(ZTF_DATA)), ...(await decodeFolder(FINK_DATA))] : [];
    ztf = [...real, ...(await decodeFolder(simulate('ztf', 'ztf-light')))];
    const samples: Rec[] = [];
    for (const file of LSST_SAMPLES) samples.push(...(await decodeIndependently(file).catch(() => ({ values: [] }))).values);
    lsst = [...samples, ...(await decodeFolder(simulate('lsst', 'lsst-light')))];
  });

  test('ZTF: the real alerts of ../shared/data and 400 simulated ones', (t) => {
    if (!haveRealData(t)) return;
    assert.ok(ztf.length >= 415, `${ztf.length} alerts`);
    compare('ztf', ZTF_CASES, ztf, (a) => extractFields(a));
  });

  test("Rubin: the sample alerts of each packet version and 400 simulated ones", (t) => {
    if (!haveLsstData(t)) return;
    assert.ok(lsst.length >= 403, `${lsst.length} alerts`);
    compare('lsst', LSST_CASES, lsst, (a) => extractLsstFields(a));
  });
});
