// The real alerts in ../shared/data, read from there (never copied into the repository). They are a
// prerequisite (test/helpers/prerequisites.ts): a test that needs them skips, saying so, where the
// folder is absent, and fails instead under CI=true.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { TestContext } from 'node:test';
import avro from 'avsc';
import { prerequisiteMissing } from './prerequisites.ts';
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

/** True when the real data is present; otherwise skips the test with the reason (fails it under CI=true). */
export function haveRealData(t: TestContext): boolean {
  return realDataPresent() || prerequisiteMissing(t, `real alerts not found at ${SHARED_DATA} (the shared data folder beside the project)`);
}

/** True when the Rubin sample alerts are present; otherwise skips the test with the reason (fails it under CI=true). */
export function haveLsstData(t: TestContext): boolean {
  return LSST_SAMPLES.every((f) => existsSync(f)) || prerequisiteMissing(t, `Rubin sample alerts not found at ${LSST_DATA} (the shared data folder beside the project)`);
}

/** True when a file or folder of the shared data is present; otherwise skips the test saying what is missing (fails it under CI=true). */
export function haveSharedData(t: TestContext, path: string, what: string): boolean {
  return existsSync(path) || prerequisiteMissing(t, `${what} not found at ${path} (the shared data folder beside the project)`);
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
