// The real alerts in ../shared/data, read from there (never copied into the repository). Tests that
// need them skip, saying so, where the folder is absent.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { TestContext } from 'node:test';
import { packageRoot } from '../../src/config/config.ts';

export const SHARED_DATA = resolve(packageRoot(), '..', 'shared', 'data');
export const ZTF_DATA = join(SHARED_DATA, 'ztf');
export const FINK_DATA = join(SHARED_DATA, 'fink');
export const LSST_DATA = join(SHARED_DATA, 'lsst');
/** The Rubin alert packet versions whose sample alert (fakeAlert-vX_Y.avro) the shared data holds. */
export const LSST_VERSIONS = ['v9_0', 'v10_0', 'v11_0'] as const;

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
  if (existsSync(LSST_DATA)) return true;
  t.skip(`Rubin sample alerts not found at ${LSST_DATA} (the shared data folder beside the project)`);
  return false;
}
