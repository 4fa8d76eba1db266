import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UsageError } from '../../src/errors.ts';
import { isNight, jdOfNight, mjdOfNight } from '../../src/sciencedb/simulation.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/temp.ts';

describe('the night of a simulation', () => {
  test('a night is the Julian date and the MJD of 00:00 UTC on its date', () => {
    assert.equal(jdOfNight('20261125'), 2461369.5);
    assert.equal(mjdOfNight('20261125'), 61369);
  });

  test('an impossible date is refused, naming the value, where Date.UTC would roll it over', () => {
    for (const night of ['20261345', '20261132', '20230229', '20260001', '20261100']) {
      assert.equal(isNight(night), false, night);
      assert.throws(() => jdOfNight(night), (err: unknown) => err instanceof UsageError && err.message.includes(`'${night}'`), night);
      assert.throws(() => mjdOfNight(night), UsageError, night);
    }
  });

  test('a leap day is a night', () => {
    assert.equal(isNight('20240229'), true);
    assert.equal(mjdOfNight('20240301') - mjdOfNight('20240229'), 1);
  });

  test('a night not written YYYYMMDD is refused', () => {
    for (const night of ['2026-11-25', '2026112', '202611250', '']) assert.equal(isNight(night), false, night);
    assert.throws(() => jdOfNight('2026-11-25'), UsageError);
  });

  test('fink simulate refuses an impossible --night with a usage error naming it', () => {
    const run = runCli('fink', ['simulate', '--count', '1', '--night', '20261345'], { SCIENCE_DB_PATH: tempDir('impossible-night') });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /--night is YYYYMMDD, got '20261345'/);
  });
});
