// The console's search asks each night through an index: a candid (or diaSourceId) is a seek in
// the (survey, candid) index, not a read of the whole night, as SQLite's own plan says.
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { findAlerts, lookupStatement } from '../../src/sciencedb/lookup.ts';
import { simulateIntoDb } from '../../src/sciencedb/simulate.ts';
import { alertColumns, nightFile } from '../../src/sciencedb/store.ts';
import { tempDir } from '../helpers/temp.ts';

function plan(db: DatabaseSync, key: Parameters<typeof lookupStatement>[1]): string[] {
  const { sql, params } = lookupStatement(alertColumns(db), key);
  return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params, 50) as { detail: string }[]).map((row) => row.detail);
}

test('a search by candid or diaSourceId seeks the index of each night instead of reading it in full', () => {
  const dir = tempDir('search-index');
  simulateIntoDb(dir, { profile: 'ztf', seed: 3, night: '20261125' }, 20);
  simulateIntoDb(dir, { profile: 'lsst', seed: 4, night: '20261125' }, 5);
  const db = new DatabaseSync(nightFile(dir, '20261125'), { readOnly: true });
  try {
    const byCandid = plan(db, { candid: 123n });
    assert.ok(byCandid.some((d) => /^SEARCH a USING (COVERING )?INDEX alerts_identity \(survey=\? AND candid=\?\)/.test(d)), byCandid.join('\n'));
    assert.ok(!byCandid.some((d) => /^SCAN a\b/.test(d)), byCandid.join('\n'));
    const byObject = plan(db, { objectId: 'ZTF26aaaaaaa' });
    assert.ok(byObject.some((d) => /^SEARCH a USING INDEX alerts_objectId/.test(d)), byObject.join('\n'));
    // And the statement finds what it should, for both surveys.
    const select = db.prepare('SELECT candid FROM alerts ORDER BY seq');
    select.setReadBigInts(true);
    const rows = select.all() as { candid: bigint }[];
    for (const { candid } of [rows[0]!, rows.at(-1)!]) assert.equal(findAlerts(dir, { candid }, 50).length, 1, `candid ${candid}`);
  } finally {
    db.close();
  }
});
