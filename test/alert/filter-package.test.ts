// A filter written outside this repository, against the built package as a user installs it
// (node_modules/fink-distribution, here a symlink to this package after `npm run build`): it
// type-checks against 'fink-distribution/filter', a wrong field is caught, and the service loads it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { COLUMNS, type AlertFields } from '../../src/alert/fields.ts';
import { LSST_COLUMNS, type LsstFields } from '../../src/alert/lsst-fields.ts';
import { packageRoot } from '../../src/config/config.ts';
import { loadFilters } from '../../src/distribution/filters.ts';
import { accepts } from '../../src/distribution/filters.ts';

const FILTER = `import { COLUMNS, type AlertFields } from 'fink-distribution/filter';

const ADDED = COLUMNS.filter((c) => c.from === 'top').map((c) => c.name);

export const description = 'alerts with at least one value added by a broker';

export function filter(alert: AlertFields): boolean {
  return ADDED.some((name) => alert[name] !== null);
}
`;

const RUBIN_FILTER = `import type { LsstFields } from 'fink-distribution/filter';

export const survey = 'lsst';

export const description = 'bright Rubin detections';

export function filter(alert: LsstFields): boolean {
  return (alert.psfFlux ?? 0) > 100_000 && alert.diaSourceId > 0n;
}
`;

/** tsc on one file of `dir`, with the settings of a user's strict Node project. */
function typecheck(dir: string, file: string) {
  const tsconfig = join(dir, `tsconfig.${file.replaceAll('/', '_')}.json`);
  writeFileSync(tsconfig, JSON.stringify({ compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2024', strict: true, noEmit: true, types: [] }, files: [file] }));
  return spawnSync(process.execPath, [join(packageRoot(), 'node_modules', 'typescript', 'bin', 'tsc'), '-p', tsconfig], { encoding: 'utf8', timeout: 120_000 });
}

describe("a filter outside the repository, importing 'fink-distribution/filter'", { timeout: 300_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'fink-filter-author-'));
  before(() => {
    const build = spawnSync('npm', ['run', 'build'], { cwd: packageRoot(), encoding: 'utf8', timeout: 180_000 });
    assert.equal(build.status, 0, build.stdout + build.stderr);
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(packageRoot(), join(dir, 'node_modules', 'fink-distribution'), 'dir');
    for (const sub of ['filters', 'wrong', 'rubin']) mkdirSync(join(dir, sub));
    writeFileSync(join(dir, 'rubin', 'bright.ts'), RUBIN_FILTER);
    writeFileSync(join(dir, 'filters', 'added_values.ts'), FILTER);
    writeFileSync(join(dir, 'wrong', 'added_values.ts'), FILTER.replace("alert[name] !== null", "alert[name] !== null && alert.no_such_field !== null"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('type-checks with tsc against the declarations of the built package', () => {
    const run = typecheck(dir, 'filters/added_values.ts');
    assert.equal(run.status, 0, run.stdout + run.stderr);
  });

  it('is refused by tsc when it reads a field that AlertFields does not have', () => {
    const run = typecheck(dir, 'wrong/added_values.ts');
    assert.notEqual(run.status, 0);
    assert.match(run.stdout, /Property 'no_such_field' does not exist on type 'AlertFields'/);
  });

  it('is loaded by the service, its import of the package resolved at run time', async () => {
    const [loaded, ...others] = await loadFilters(join(dir, 'filters'));
    assert.equal(others.length, 0);
    assert.equal(loaded?.name, 'added_values');
    assert.equal(loaded.description, 'alerts with at least one value added by a broker');
    const bare = { objectId: 'ZTF00aaaaaaa', candid: 1n, ...Object.fromEntries(COLUMNS.map((c) => [c.name, null])) } as AlertFields;
    assert.equal(accepts(loaded, { survey: 'ztf', fields: bare }), false);
    assert.equal(accepts(loaded, { survey: 'ztf', fields: { ...bare, cdsxmatch: 'SN' } }), true);
  });

  it("a Rubin filter reads LsstFields from the package, and the service gives it Rubin's alerts only", async () => {
    const run = typecheck(dir, 'rubin/bright.ts');
    assert.equal(run.status, 0, run.stdout + run.stderr);
    const [loaded] = await loadFilters(join(dir, 'rubin'));
    assert.equal(loaded?.survey, 'lsst');
    const bright = { ...Object.fromEntries([...LSST_COLUMNS.map((c) => c.name), 'diaObjectId', 'ssObjectId', 'designation', 'nDiaSources'].map((n) => [n, null])), diaSourceId: 7n, psfFlux: 200_000 } as LsstFields;
    assert.equal(accepts(loaded, { survey: 'lsst', fields: bright }), true);
    assert.equal(accepts(loaded, { survey: 'lsst', fields: { ...bright, psfFlux: 10 } }), false);
    const ztf = { objectId: 'ZTF00aaaaaaa', candid: 7n, ...Object.fromEntries(COLUMNS.map((c) => [c.name, null])) } as AlertFields;
    assert.equal(accepts(loaded, { survey: 'ztf', fields: ztf }), false);
  });
});
