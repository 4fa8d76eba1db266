// Reading after a checkpoint: by count and by bytes, the position carried on exactly.
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { FinkError } from '../../src/errors.ts';
import { openReader, prepareSelect } from '../../src/sciencedb/reader.ts';
import { nightFile } from '../../src/sciencedb/store.ts';
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

test('a database without an alerts table is not ready to select from', () => {
  const db = new DatabaseSync(':memory:');
  try {
    assert.deepEqual(prepareSelect(db), { state: 'not-ready' });
  } finally {
    db.close();
  }
});

test('a night whose tables a writer has not committed yet is skipped, then read once they are', () => {
  const dir = tempDir('reader-not-ready');
  simulateIntoDb(dir, { profile: 'ztf', seed: 3, night: '20261110' }, 5);
  new DatabaseSync(nightFile(dir, '20261111')).close();
  const reader = openReader(dir);
  try {
    assert.deepEqual(reader.head(), { '20261110': 5 });
    assert.deepEqual(Object.keys(reader.identities()), ['20261110']);
    simulateIntoDb(dir, { profile: 'ztf', seed: 4, night: '20261111' }, 3);
    assert.deepEqual(reader.head(), { '20261110': 5, '20261111': 3 });
    assert.equal(reader.read({ '20261110': 5 }, 100).alerts.length, 3);
  } finally {
    reader.close();
  }
});

test('a store written before identities (no meta table) is read without one', () => {
  const dir = tempDir('reader-no-meta');
  simulateIntoDb(dir, { profile: 'ztf', seed: 3, night: '20261110' }, 4);
  const db = new DatabaseSync(nightFile(dir, '20261110'));
  db.exec('DROP TABLE meta');
  db.close();
  const reader = openReader(dir);
  try {
    assert.deepEqual(reader.identities(), {});
    assert.equal(reader.read({}, 100).alerts.length, 4);
  } finally {
    reader.close();
  }
});

test('a schema the database does not hold is a FinkError with its code', () => {
  const dir = tempDir('reader-schema');
  simulateIntoDb(dir, { profile: 'ztf', seed: 3, night: '20261110' }, 1);
  const reader = openReader(dir);
  try {
    assert.throws(() => reader.schemaJson('0000'), (err) => err instanceof FinkError && err.code === 'FINK_SCHEMA_MISSING' && /schema 0000 is not in the science database/.test(err.message));
  } finally {
    reader.close();
  }
});
