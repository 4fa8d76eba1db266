import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AlertError } from '../../src/alert/fields.ts';
import { dayObsOfMjdTai, extractLsstFields, lsstObjectKey } from '../../src/alert/lsst-fields.ts';
import { surveyOfSchema, viewAlert } from '../../src/alert/survey.ts';

/** MJD (TAI) of a UTC instant. */
function mjdTai(iso: string): number {
  return (Date.parse(iso) + 37_000) / 86_400_000 + 40587;
}

function rubinAlert(diaSource: Record<string, unknown>, rest: Record<string, unknown> = {}): Record<string, unknown> {
  return { diaSourceId: 170000000000000001n, diaSource: { diaSourceId: 170000000000000001n, midpointMjdTai: mjdTai('2026-03-19T03:00:00Z'), ra: 150.1, dec: -30.2, band: 'g', ...diaSource }, ...rest };
}

describe('Rubin alerts: night, identity and typed fields', () => {
  test("the night is Rubin's dayObs: a whole Chilean night, across UTC midnight, is one date", () => {
    // Evening and morning of the night that starts on 18 March in Chile (UTC-3).
    assert.equal(dayObsOfMjdTai(mjdTai('2026-03-18T23:00:00Z')), '20260318');
    assert.equal(dayObsOfMjdTai(mjdTai('2026-03-19T09:00:00Z')), '20260318');
    // dayObs changes at noon UTC, TAI's 37 s included: 11:59:59 UTC is still the day before.
    assert.equal(dayObsOfMjdTai(mjdTai('2026-03-19T11:59:59Z')), '20260318');
    assert.equal(dayObsOfMjdTai(mjdTai('2026-03-19T12:00:01Z')), '20260319');
  });

  test('the identity is the diaSourceId, exact past 2^53; the object is the diaObjectId', () => {
    const view = viewAlert('lsst', rubinAlert({ diaObjectId: 2n ** 62n + 1n }, { diaObject: { diaObjectId: 2n ** 62n + 1n, nDiaSources: 7 } }));
    assert.equal(view.survey, 'lsst');
    assert.equal(view.alertId, 170000000000000001n);
    assert.equal(view.objectKey, String(2n ** 62n + 1n));
    assert.equal(view.night, '20260318');
    assert.equal(view.fields.diaObjectId, 2n ** 62n + 1n);
    // Without prvDiaSources, the previous sources are the object's count less this one.
    assert.equal(view.fields.nDiaSources, 6);
  });

  test('a solar-system source (diaObjectId 0) is keyed by its ssObjectId, or its designation, prefixed', () => {
    const sso = extractLsstFields(rubinAlert({ diaObjectId: 0n, ssObjectId: 9000000123n }, { ssSource: { ssObjectId: 9000000123n, designation: '2026 AB1' } }));
    assert.equal(sso.diaObjectId, null);
    assert.equal(sso.ssObjectId, 9000000123n);
    assert.equal(lsstObjectKey(sso), 'ss:9000000123');
    const named = extractLsstFields(rubinAlert({ diaObjectId: null }, { mpc_orbits: { designation: '2026 AB1' } }));
    assert.equal(lsstObjectKey(named), 'mpc:2026 AB1');
    assert.throws(() => lsstObjectKey(extractLsstFields(rubinAlert({}))), (err: Error) => err instanceof AlertError && /alert 170000000000000001 has neither a diaObjectId nor a solar-system object/.test(err.message));
  });

  test("Fink's added values are read from clf, xm and pred, the added record winning", () => {
    const alert = rubinAlert({ diaObjectId: 5n, isDipole: false, psfFlux: 1234.5 }, { prvDiaSources: [{}, {}, {}], clf: { snnSnVsOthers_score: 0.25, cats_class: 11 }, xm: { simbad_otype: 'Unknown' }, pred: { is_sso: false } });
    const fields = extractLsstFields(alert, { xm: { simbad_otype: 'SN', tns_type: 'SN Ia' } });
    assert.equal(fields.nDiaSources, 3);
    assert.equal(fields.isDipole, false);
    assert.equal(fields.psfFlux, 1234.5);
    assert.equal(fields.snnSnVsOthers_score, 0.25);
    assert.equal(fields.cats_class, 11);
    assert.equal(fields.simbad_otype, 'SN');
    assert.equal(fields.tns_type, 'SN Ia');
    assert.equal(fields.is_sso, false);
    assert.equal(fields.earlySNIa_score, null);
  });

  test('the survey is told by the writer schema; an unknown shape is not guessed', () => {
    assert.equal(surveyOfSchema({ name: 'lsst.v10_0.alert', fields: [] }), 'lsst');
    assert.equal(surveyOfSchema({ name: 'alert', namespace: 'lsst.v9_0', fields: [] }), 'lsst');
    assert.equal(surveyOfSchema({ name: 'topLevelRecord', fields: [{ name: 'diaSourceId' }, { name: 'diaSource' }] }), 'lsst');
    assert.equal(surveyOfSchema({ name: 'alert', namespace: 'ztf', fields: [{ name: 'objectId' }, { name: 'candidate' }] }), 'ztf');
    assert.equal(surveyOfSchema({ name: 'lsst.v10_0.diaSource', fields: [{ name: 'ra' }] }), undefined);
  });
});
