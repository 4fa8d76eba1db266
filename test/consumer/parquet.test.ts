// Parquet through the optional DuckDB package: values as written, and the two ways it fails for a
// user (DuckDB not installed, a file that cannot be written) as one-line errors, not stacks.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { RecordSchema } from '../../src/avro/schema.ts';
import { packageRoot } from '../../src/config/config.ts';
import { writeParquet, type DuckDBLoader } from '../../src/consumer/parquet.ts';
import { FinkError } from '../../src/errors.ts';

const schema: RecordSchema = {
  type: 'record', name: 'alert', namespace: 'test',
  fields: [
    { name: 'candid', type: 'long' },
    { name: 'magpsf', type: ['float', 'null'] },
    { name: 'stamp', type: 'bytes' },
    { name: 'history', type: { type: 'array', items: { type: 'record', name: 'point', fields: [{ name: 'jd', type: 'double' }] } } },
  ],
};
const records = [
  { candid: 2n ** 62n + 1n, magpsf: Math.fround(18.1), stamp: Buffer.from([0, 1, 255]), history: [{ jd: 2460000.5 }] },
  { candid: 7n, magpsf: null, stamp: Buffer.alloc(0), history: [] },
];

describe('writeParquet', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fink-parquet-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes 64-bit integers, 32-bit floats, nulls, bytes and nested lists that DuckDB reads back equal', async () => {
    const file = join(dir, 'alerts.parquet');
    await writeParquet(file, schema, records);
    const duck = await import('@duckdb/node-api');
    const db = await duck.DuckDBInstance.create(':memory:');
    const connection = await db.connect();
    const rows = (await connection.runAndReadAll(`SELECT candid, magpsf, stamp, len(history) AS n FROM read_parquet('${file}') ORDER BY n DESC`)).getRowObjects();
    connection.closeSync();
    db.closeSync();
    assert.deepEqual(rows.map((r) => [r.candid, r.magpsf, Buffer.from((r.stamp as { bytes: Uint8Array }).bytes), r.n]), records.map((r) => [r.candid, r.magpsf, r.stamp, BigInt(r.history.length)]));
  });

  it('without DuckDB installed, names the package and how to install it, as a FinkError', async () => {
    // A real failed import of a package that is not installed, as Node reports it for DuckDB when absent.
    const absent = (() => import('@duckdb/node-api-not-installed' as string)) as DuckDBLoader;
    await assert.rejects(writeParquet(join(dir, 'never.parquet'), schema, records, absent), (err: unknown) => {
      assert.ok(err instanceof FinkError);
      assert.equal(err.code, 'FINK_PARQUET');
      assert.equal(err.message, "writing Parquet needs the optional package @duckdb/node-api, which is not installed: run 'npm install @duckdb/node-api' (or save FILE.avro instead)");
      return true;
    });
  });

  it('a file that cannot be written is a one-line FinkError naming it, and a command exits 1 with that line alone', () => {
    const file = join(dir, 'no-such-folder', 'alerts.parquet');
    // Through runCommand, as every entry point runs its body.
    const script = `
      import { runCommand } from './src/cli/args.ts';
      import { writeParquet } from './src/consumer/parquet.ts';
      process.exitCode = await runCommand('fink', () => writeParquet(${JSON.stringify(file)}, ${JSON.stringify(schema)}, []));`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: packageRoot(), encoding: 'utf8', timeout: 60_000 });
    assert.equal(run.status, 1, run.stderr);
    assert.equal(run.stderr, `fink: cannot write ${file}: IO Error: Cannot open file "${file}": No such file or directory\n`);
  });
});
