// A night file's page size: 64 KB for a new night (an alert's blob in a few pages, not fifty),
// while a night made before keeps its own and is written and read as before.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { openReader } from '../../src/sciencedb/reader.ts';
import { createSimulation } from '../../src/sciencedb/simulate.ts';
import { nightFile, ScienceWriter } from '../../src/sciencedb/store.ts';
import { tempDir } from '../helpers/temp.ts';

function pageSize(dir: string, night: string): number {
  const db = new DatabaseSync(nightFile(dir, night), { readOnly: true });
  try {
    return Number((db.prepare('PRAGMA page_size').get() as { page_size: number }).page_size);
  } finally {
    db.close();
  }
}

/** Writes `count` simulated Rubin alerts of one night and reads them all back: their ids, in order. */
function writeAndRead(dir: string, night: string, count: number): { written: bigint[]; read: bigint[] } {
  const sim = createSimulation({ profile: 'lsst', seed: 3, night });
  const alerts = Array.from({ length: count }, () => sim.next());
  const writer = new ScienceWriter(dir);
  assert.equal(writer.write(alerts), count);
  writer.close();
  const reader = openReader(dir);
  try {
    return { written: alerts.map((a) => a.alertId), read: reader.read({}, count + 1).alerts.map((a) => a.alertId) };
  } finally {
    reader.close();
  }
}

test('a new night file has 64 KB pages, and its Rubin alerts read back whole', () => {
  const dir = tempDir('pages-new');
  const { written, read } = writeAndRead(dir, '20261126', 12);
  assert.equal(pageSize(dir, '20261126'), 65_536);
  assert.deepEqual(read, written);
});

test('a night made with 4 KB pages keeps them, and takes and gives alerts as before', () => {
  const dir = tempDir('pages-old');
  mkdirSync(dir, { recursive: true });
  // An empty night file as a writer before this change made it: WAL, SQLite's default 4 KB pages.
  const old = new DatabaseSync(nightFile(dir, '20261126'));
  old.exec('PRAGMA page_size = 4096');
  old.exec('PRAGMA journal_mode = WAL');
  old.exec('CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
  old.close();
  const { written, read } = writeAndRead(dir, '20261126', 12);
  assert.equal(pageSize(dir, '20261126'), 4096);
  assert.deepEqual(read, written);
});
