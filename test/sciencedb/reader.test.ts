// Reading after a checkpoint: by count and by bytes, the position carried on exactly.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openReader } from '../../src/sciencedb/reader.ts';
import { simulateIntoDb } from '../../src/sciencedb/simulate.ts';
import { tempDir } from '../helpers/temp.ts';

test('a byte limit ends a batch once its alerts reach it (at least one alert), and the next read goes on right after', () => {
  const dir = tempDir('reader');
  simulateIntoDb(dir, { profile: 'ztf', seed: 3, night: '20261110' }, 40);
  simulateIntoDb(dir, { profile: 'ztf', seed: 4, night: '20261111' }, 40);
  const reader = openReader(dir);
  try {
    const all = reader.read({}, 1000).alerts;
    assert.equal(all.length, 80);
    const size = all[0]!.wire.length;
    const seen: string[] = [];
    let checkpoint = {};
    for (;;) {
      const { alerts, checkpoint: next } = reader.read(checkpoint, 1000, undefined, size * 5);
      if (alerts.length === 0) break;
      const bytes = alerts.reduce((sum, a) => sum + a.wire.length, 0);
      assert.ok(alerts.length === 1 || bytes - alerts.at(-1)!.wire.length < size * 5, 'nothing after the alert that reached the limit');
      assert.ok(alerts.length <= 6, `${alerts.length} alerts of about ${size} bytes under a limit of 5`);
      seen.push(...alerts.map((a) => `${a.night}/${a.seq}`));
      checkpoint = next;
    }
    assert.deepEqual(seen, all.map((a) => `${a.night}/${a.seq}`), 'every alert once, in order, across nights');
    assert.equal(reader.read({}, 1000, undefined, 1).alerts.length, 1, 'at least one alert');
  } finally {
    reader.close();
  }
});
