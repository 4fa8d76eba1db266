import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createSimulation } from '../../src/sciencedb/simulate.ts';
import { decodeLogAlert, encodeLogAlert, LogRecordError, logKey, LOG_FORMAT_VERSION } from '../../src/sciencedb/log-format.ts';
import { SURVEY_PROFILES } from '../../src/sciencedb/simulation.ts';
import type { Survey } from '../../src/alert/survey.ts';

describe('the science log record', () => {
  for (const survey of ['ztf', 'lsst'] as Survey[]) {
    test(`${survey}: a simulated alert comes back with its identity, its typed fields and its bytes unchanged`, () => {
      const sim = createSimulation({ profile: SURVEY_PROFILES[survey][0]!, seed: 3, night: '20261125' });
      for (let i = 0; i < 30; i++) {
        const alert = sim.next();
        const value = encodeLogAlert(alert, 1_765_000_000_123 + i);
        assert.equal(value[0], LOG_FORMAT_VERSION);
        const back = decodeLogAlert(survey, value, `record ${i}`);
        assert.equal(back.survey, survey);
        assert.equal(back.alertId, alert.alertId);
        assert.equal(back.objectKey, alert.objectKey);
        assert.equal(back.night, alert.night);
        assert.equal(back.ingestedMs, 1_765_000_000_123 + i);
        assert.equal(back.schemaId, alert.schemaId);
        assert.deepEqual(Buffer.from(back.datum), Buffer.from(alert.datum));
        assert.equal(back.added?.schemaId, alert.added?.schemaId);
        assert.deepEqual(Buffer.from(back.added!.datum), Buffer.from(alert.added!.datum));
        assert.deepEqual(Buffer.from(back.wire), Buffer.concat([alert.datum, alert.added!.datum]));
        const fields = alert.fields as unknown as Record<string, unknown>;
        for (const [name, v] of Object.entries(back.fields)) {
          if (fields[name] === undefined) continue;
          assert.deepEqual(v, fields[name] ?? null, `field ${name} of alert ${i}`);
          if (typeof v === 'number') assert.ok(Object.is(v, fields[name]), `field ${name} bit for bit`);
        }
        assert.equal(logKey(alert).toString(), alert.objectKey);
      }
    });
  }

  test('a value of another format, or cut short, is refused naming where it was read', () => {
    const alert = createSimulation({ profile: 'ztf-light', seed: 1, night: '20261125' }).next();
    const value = encodeLogAlert(alert, 1);
    assert.throws(() => decodeLogAlert('ztf', Buffer.from([9, 1, 2]), 'fink_science_ztf[3]@7'), (e: Error) => e instanceof LogRecordError && /fink_science_ztf\[3\]@7.*format 1.*first byte 9/.test(e.message));
    assert.throws(() => decodeLogAlert('ztf', value.subarray(0, value.length - 10), 'p0@1'), (e: Error) => e instanceof LogRecordError && /p0@1: not a ztf science log record/.test(e.message));
    assert.throws(() => decodeLogAlert('ztf', Buffer.alloc(0), 'p0@2'), LogRecordError);
  });
});
