import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { packageRoot } from '../../src/config/config.ts';
import { openReader, type Checkpoint } from '../../src/sciencedb/reader.ts';
import { createSimulation, simulateIntoDb } from '../../src/sciencedb/simulate.ts';
import { testEnv } from '../helpers/cli.ts';
import { tempDir } from '../helpers/temp.ts';

test('a reader reads while another process ingests: every alert once, in order, none skipped', async () => {
  const dir = tempDir('concurrent');
  const count = 3000;
  const writer = spawn(process.execPath, [join(packageRoot(), 'bin', 'fink.ts'), 'simulate', '--count', String(count), '--profile', 'ztf', '--seed', '9', '--night', '20261121'], {
    env: testEnv({ SCIENCE_DB_PATH: dir }),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  writer.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => writer.on('exit', resolve));
  let writerDone = false;
  void exited.then(() => (writerDone = true));

  const expected = createSimulation({ profile: 'ztf', seed: 9, night: '20261121' });
  const reader = openReader(dir);
  let checkpoint: Checkpoint = {};
  let seen = 0;
  let readsWhileWriting = 0;
  const deadline = Date.now() + 300_000;
  while (seen < count && Date.now() < deadline) {
    const { alerts, checkpoint: next } = reader.read(checkpoint, 200);
    if (!writerDone && alerts.length > 0) readsWhileWriting++;
    for (const alert of alerts) {
      assert.equal(alert.alertId, expected.next().alertId, `alert ${seen} in order, none skipped`);
      seen++;
    }
    checkpoint = next;
    if (alerts.length === 0) await sleep(20);
  }
  assert.equal(await exited, 0, stderr);
  assert.equal(seen, count);
  assert.equal(reader.read(checkpoint, 10).alerts.length, 0, 'nothing twice');
  assert.ok(readsWhileWriting > 1, `the reader read while the writer wrote (${readsWhileWriting} batches)`);
  reader.close();
});

test('a night whose store a writer is still creating is skipped until it is ready, not an error', () => {
  const dir = tempDir('creating');
  // The file exists but its tables are not there yet, as in the instant after a writer opened it.
  new DatabaseSync(join(dir, '20261130.sqlite')).close();
  const reader = openReader(dir);
  assert.deepEqual(reader.read({}, 10).alerts, []);
  assert.deepEqual(reader.head(), {});
  simulateIntoDb(dir, { profile: 'ztf-light', seed: 1, night: '20261130' }, 3);
  assert.equal(reader.read({}, 10).alerts.length, 3, 'read once the night is ready');
  reader.close();
});
