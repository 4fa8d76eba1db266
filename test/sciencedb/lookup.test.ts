// The console's look-up of stored alerts by objectId or candid, across nights.
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { findAlerts } from '../../src/sciencedb/lookup.ts';
import { openReader } from '../../src/sciencedb/reader.ts';
import { simulateIntoDb } from '../../src/sciencedb/simulate.ts';
import { nightFile } from '../../src/sciencedb/store.ts';
import { tempDir } from '../helpers/temp.ts';

test('a night whose tables a writer has not committed yet holds nothing to find, and the others are asked', () => {
  const dir = tempDir('lookup');
  simulateIntoDb(dir, { profile: 'ztf', seed: 3, night: '20261110' }, 3);
  new DatabaseSync(nightFile(dir, '20261111')).close();
  const reader = openReader(dir);
  const stored = reader.read({}, 1).alerts[0]!;
  reader.close();
  const found = findAlerts(dir, { objectId: stored.objectKey }, 10);
  assert.ok(found.length >= 1);
  assert.ok(found.every((f) => f.night === '20261110'));
});
