// The files that the long-running commands keep (pid files, schema files) against a hostile
// neighbour: a symlink planted where one is written, a pid reused by another process.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { appendRecord } from '../../src/files.ts';
import { SchemaFiles } from '../../src/distribution/schema-files.ts';
import type { WireSchema } from '../../src/distribution/wire.ts';
import { livePid, writePid } from '../../src/pidfile.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/temp.ts';

const VICTIM_TEXT = 'precious, not to be overwritten\n';

/** A folder with a file that a planted symlink points at. */
function victim(): { dir: string; victim: string } {
  const dir = tempDir('symlink');
  const file = join(dir, 'victim.txt');
  writeFileSync(file, VICTIM_TEXT);
  return { dir, victim: file };
}

describe('pid files', () => {
  it('are written beside a planted symlink, never through it', () => {
    const { dir, victim: target } = victim();
    const file = join(dir, 'service.pid');
    symlinkSync(target, file);
    writePid(file);
    assert.equal(readFileSync(target, 'utf8'), VICTIM_TEXT);
    assert.ok(lstatSync(file).isFile(), 'the pid file is a regular file now');
    assert.equal(livePid(file, 'node'), process.pid);
  });

  it('name the process that wrote them, not a later process with the same pid', async () => {
    const dir = tempDir('pid');
    // A process whose command line has the service's marker, as one that reused its pid could.
    const decoy = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', 'distribution'], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => decoy.once('spawn', resolve));
      const state = join(dir, 'state');
      mkdirSync(state);
      const env = { DISTRIBUTION_STATE_DIR: state, DISTRIBUTION_ID: 'reused' };
      // What a killed service leaves behind (pid only), and a file whose start time is another's.
      for (const text of [`${decoy.pid}\n`, `${decoy.pid} 1\n`]) {
        writeFileSync(join(state, 'reused.pid'), text);
        const stop = runCli('fink', ['stop', 'distribution'], env);
        assert.equal(stop.status, 0, stop.stderr);
        assert.match(stop.stdout, /no distribution service with DISTRIBUTION_ID=reused is running/);
        assert.equal(decoy.exitCode, null, 'the decoy was not signalled');
        assert.equal(decoy.signalCode, null, 'the decoy was not signalled');
      }
      // The same process, written by writePid, is recognised.
      writePid(join(state, 'reused.pid'), decoy.pid);
      const stop = runCli('fink', ['stop', 'distribution'], env);
      assert.match(stop.stdout, /stopped the distribution service/);
    } finally {
      decoy.kill('SIGKILL');
    }
    const deadline = Date.now() + 30_000;
    while (decoy.exitCode === null && decoy.signalCode === null && Date.now() < deadline) await sleep(50);
  });
});

describe('schema files', () => {
  it('are written beside a symlink planted at any name the writer may use, never through it', () => {
    const { dir, victim: target } = victim();
    const base = join(dir, 'distribution_schema.avsc');
    const wire = { schema: { type: 'record', name: 'alert', fields: [] }, fingerprint: '0123456789abcdef' } as unknown as WireSchema;
    const versioned = join(dir, 'distribution_schema-0123456789abcdef.avsc');
    // The final names, and the temporary names a predictable writer would use.
    for (const name of [base, `${base}.${process.pid}.tmp`, `${versioned}.${process.pid}.tmp`]) symlinkSync(target, name);
    new SchemaFiles(base).ensure(wire, 'distribution_test', false);
    assert.equal(readFileSync(target, 'utf8'), VICTIM_TEXT);
    for (const file of [base, versioned]) {
      assert.ok(lstatSync(file).isFile(), `${file} is a regular file`);
      assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), wire.schema);
    }
  });
});

describe('record files', () => {
  it('are appended to, and a symlink planted in their place is refused, never written through', () => {
    const { dir, victim: target } = victim();
    const record = join(dir, 'skipped.jsonl');
    appendRecord(record, 'one\n');
    appendRecord(record, 'two\n');
    assert.equal(readFileSync(record, 'utf8'), 'one\ntwo\n');
    const planted = join(dir, 'planted.jsonl');
    symlinkSync(target, planted);
    assert.throws(() => appendRecord(planted, 'three\n'), /ELOOP/);
    assert.equal(readFileSync(target, 'utf8'), VICTIM_TEXT);
  });
});
