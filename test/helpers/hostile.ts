// Building blocks of hostile input: Avro varints of any size, deflate streams that inflate to far
// more than they take, a minimal alert schema to hang a bomb on, and the peak memory of a child.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { constants, deflateRawSync } from 'node:zlib';
import { packageRoot } from '../../src/config/config.ts';
import { NODE_FLAGS } from '../../src/cli/runtime.ts';
import type { FieldSchema, RecordSchema } from '../../src/avro/schema.ts';

/** The Avro (zig-zag varint) encoding of a long, whatever its size. */
export function varint(n: bigint): Buffer {
  let z = n >= 0n ? n * 2n : -n * 2n - 1n;
  const out: number[] = [];
  do {
    let byte = Number(z & 0x7fn);
    z >>= 7n;
    if (z > 0n) byte |= 0x80;
    out.push(byte);
  } while (z > 0n);
  return Buffer.from(out);
}

/**
 * A raw deflate stream of about `inflatedMiB / 1000` MiB that inflates to `inflatedMiB` MiB of
 * zeros. A full flush ends a deflate block on a byte boundary, referring to nothing before it, so
 * one flushed MiB can be repeated as often as wanted, then closed by a final empty block.
 */
export function deflateBomb(inflatedMiB: number): Buffer {
  const piece = deflateRawSync(Buffer.alloc(1 << 20), { finishFlush: constants.Z_FULL_FLUSH });
  return Buffer.concat([...Array.from({ length: inflatedMiB }, () => piece), deflateRawSync(Buffer.alloc(0))]);
}

/** The smallest alert schema ingest accepts, with extra fields appended. */
export function alertSchema(extra: object[] = []): RecordSchema {
  return {
    type: 'record', name: 'alert', fields: [
      { name: 'objectId', type: 'string' },
      { name: 'candid', type: 'long' },
      { name: 'candidate', type: { type: 'record', name: 'candidate', fields: [{ name: 'jd', type: 'double' }] } },
      ...(extra as FieldSchema[]),
    ],
  };
}

/** Peak resident memory (VmHWM) of this process, in MB. */
export function peakRssMb(): number {
  const line = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return line === null ? NaN : Number(line[1]) / 1024;
}

/**
 * Runs `ingestPaths` in a child process started as `fink` is (same Node flags) and returns its
 * report with the child's peak memory.
 */
export function ingestInChild(dir: string, paths: string[], timeoutMs = 120_000): { report: { alerts: number; inserted: number; failed: { file: string; reason: string }[] }; peakMb: number } {
  const script = join(packageRoot(), 'test', 'helpers', 'ingest-child.ts');
  const run = spawnSync(process.execPath, [...NODE_FLAGS, script, dir, ...paths], { encoding: 'utf8', timeout: timeoutMs });
  if (run.status !== 0) throw new Error(`the ingest child failed (status ${run.status}, signal ${run.signal}): ${run.stderr.slice(-2000)}`);
  return JSON.parse(run.stdout) as ReturnType<typeof ingestInChild>;
}
