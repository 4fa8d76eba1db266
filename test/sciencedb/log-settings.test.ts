import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfig } from '../../src/config/config.ts';
import { scienceLogSettings } from '../../src/sciencedb/log-settings.ts';
import { tempDir } from '../helpers/temp.ts';

/** A configuration from `env` alone: a FINK_HOME without conf/fink.conf. */
function settingsOf(env: Record<string, string>) {
  return scienceLogSettings(loadConfig({ env: { FINK_HOME: tempDir('log-settings'), ...env } }));
}

describe("the science log's compression", () => {
  test('SCIENCE_COMPRESSION unset: the log is not compressed, whatever the community topics are', () => {
    assert.equal(settingsOf({}).compression, 'none');
    assert.equal(settingsOf({ DISTRIBUTION_COMPRESSION: 'zstd' }).compression, 'none');
  });

  test('SCIENCE_COMPRESSION set: the log takes it, whatever DISTRIBUTION_COMPRESSION says', () => {
    assert.equal(settingsOf({ SCIENCE_COMPRESSION: 'lz4' }).compression, 'lz4');
    assert.equal(settingsOf({ SCIENCE_COMPRESSION: 'zstd', DISTRIBUTION_COMPRESSION: 'lz4' }).compression, 'zstd');
  });

  test('SCIENCE_COMPRESSION of an unknown codec is refused, naming the key and the codecs', () => {
    assert.throws(() => settingsOf({ SCIENCE_COMPRESSION: 'brotli' }), (e: Error) => /SCIENCE_COMPRESSION/.test(e.message) && /lz4/.test(e.message) && /none/.test(e.message));
  });
});
