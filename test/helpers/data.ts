// The real alerts in ../shared/data, read from there (never copied into the repository). Tests that
// need them skip, saying so, where the folder is absent.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { TestContext } from 'node:test';
import avro from 'avsc';
import { parseAvroType, sanitizeSchema, type AvroSchema } from '../../src/avro/schema.ts';
import { packageRoot } from '../../src/config/config.ts';

export const SHARED_DATA = resolve(packageRoot(), '..', 'shared', 'data');
export const ZTF_DATA = join(SHARED_DATA, 'ztf');
export const FINK_DATA = join(SHARED_DATA, 'fink');
export const LSST_DATA = join(SHARED_DATA, 'lsst');
/** The Rubin alert packet versions whose sample alert (fakeAlert-vX_Y.avro) the shared data holds. */
export const LSST_VERSIONS = ['v9_0', 'v10_0', 'v11_0'] as const;
/** Rubin's sample alert of each published major version. */
export const LSST_SAMPLES = LSST_VERSIONS.map((v) => join(LSST_DATA, `fakeAlert-${v}.avro`));

export function realDataPresent(): boolean {
  return existsSync(ZTF_DATA) && existsSync(FINK_DATA);
}

/** True when the real data is present; otherwise marks the test skipped with the reason. */
export function haveRealData(t: TestContext): boolean {
  if (realDataPresent()) return true;
  t.skip(`real alerts not found at ${SHARED_DATA} (the shared data folder beside the project)`);
  return false;
}

/** True when the Rubin sample alerts are present; otherwise marks the test skipped with the reason. */
export function haveLsstData(t: TestContext): boolean {
  if (LSST_SAMPLES.every((f) => existsSync(f))) return true;
  t.skip(`Rubin sample alerts not found at ${LSST_DATA} (the shared data folder beside the project)`);
  return false;
}

/** Every alert of a file, decoded by avsc's own container reader (independent of ours). */
export async function decodeIndependently(file: string): Promise<{ schema: AvroSchema; values: Record<string, unknown>[] }> {
  let schema: AvroSchema = {};
  const values: Record<string, unknown>[] = [];
  const decoder = new avro.streams.BlockDecoder({
    // The older ZTF headers are not valid by the spec: parse them the way the store does.
    parseHook: (s: AvroSchema) => {
      schema = s;
      return parseAvroType(sanitizeSchema(s));
    },
  } as never);
  await new Promise<void>((resolve, reject) => {
    decoder.on('data', (v: Record<string, unknown>) => values.push(v));
    decoder.on('end', resolve);
    decoder.on('error', reject);
    decoder.end(readFileSync(file));
  });
  return { schema, values };
}
