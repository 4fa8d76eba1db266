import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AlertError } from '../../src/alert/fields.ts';
import { viewAlert } from '../../src/alert/survey.ts';

const DIA_SOURCE_ID = 170000000000000001n;
const CANDID = 739260766315010006n;

function rubinAlert(midpointMjdTai: number): Record<string, unknown> {
  return { diaSourceId: DIA_SOURCE_ID, diaSource: { diaSourceId: DIA_SOURCE_ID, diaObjectId: 42n, midpointMjdTai, ra: 150.1, dec: -30.2, band: 'g' } };
}

function ztfAlert(jd: number): Record<string, unknown> {
  return { objectId: 'ZTF19acihgng', candid: CANDID, candidate: { candid: CANDID, jd } };
}

// NaN, infinities, far future (1e12 is about 2.7 billion years), before the surveys, negative.
const IMPOSSIBLE = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e12, -1, 0];

/** The error viewAlert throws, or a failure if it returns or throws anything but an AlertError. */
function alertError(view: () => unknown): AlertError {
  let thrown: unknown;
  try {
    view();
  } catch (err) {
    thrown = err;
  }
  assert.ok(thrown instanceof AlertError, `expected an AlertError, got ${thrown === undefined ? 'a view' : String(thrown)}`);
  return thrown;
}

describe('times no alert can have', () => {
  test('a Rubin alert whose midpointMjdTai is NaN, infinite, absurd or before 2015 is an alert error naming the diaSourceId and the value', () => {
    // 56658 is 2014-01-01, 88070 is 2100-01-02.
    for (const mjd of [...IMPOSSIBLE, 56658, 88070]) {
      const err = alertError(() => viewAlert('lsst', rubinAlert(mjd)));
      assert.equal(err.code, 'FINK_ALERT');
      assert.match(err.message, new RegExp(`diaSourceId ${DIA_SOURCE_ID}: diaSource.midpointMjdTai ${String(mjd).replace('+', '\\+')} is not a time`));
    }
  });

  test('a ZTF alert whose jd is NaN, infinite, absurd or before 2015 is an alert error naming the candid and the value', () => {
    // 2456658.5 is 2014-01-01.
    for (const jd of [...IMPOSSIBLE, 2456658.5, 2488070.5]) {
      const err = alertError(() => viewAlert('ztf', ztfAlert(jd)));
      assert.equal(err.code, 'FINK_ALERT');
      assert.match(err.message, new RegExp(`candid ${CANDID}: candidate.jd ${String(jd)} is not a time`));
    }
  });

  test('times inside the window keep their night', () => {
    assert.equal(viewAlert('ztf', ztfAlert(2458493.5)).night, '20190110');
    assert.equal(viewAlert('lsst', rubinAlert(57024)).night, '20150101');
    assert.equal(viewAlert('lsst', rubinAlert(88068.9)).night, '20991231');
  });
});
