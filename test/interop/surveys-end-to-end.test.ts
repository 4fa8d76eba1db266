// Rubin and ZTF alerts in one run, end to end: Rubin's samples and simulated Rubin alerts, real and
// simulated ZTF alerts, ingested into one science database, distributed in one pass, and read by
// fink-client from PyPI (survey="lsst" for the Rubin topic, "ztf" for the ZTF one): every alert
// once, each byte of it as stored, which is each byte as it arrived.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { readContainer } from '../../src/avro/container.ts';
import { runCli } from '../helpers/cli.ts';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { FINK_DATA, haveLsstData, LSST_DATA, LSST_SAMPLES, realDataPresent, ZTF_DATA } from '../helpers/data.ts';
import { distributionSetup, type DistributionSetup } from '../helpers/distribution.ts';
import { withTestCluster, type TestCluster } from '../helpers/kafka.ts';
import { prerequisiteMissing } from '../helpers/prerequisites.ts';
import { consumeWithFinkClient, finkClientPython } from '../helpers/python.ts';
import { readStored } from '../helpers/stored.ts';
import { tempDir } from '../helpers/temp.ts';

interface Consumed {
  diaSourceId?: string;
  candid?: string;
  sha256: string;
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const lsstPresent = () => LSST_SAMPLES.every((f) => existsSync(f));

describe('Rubin and ZTF alerts in one run, through to fink-client', { timeout: 600_000 }, () => {
  let cluster: TestCluster;
  let setup: DistributionSetup;
  let found: ReturnType<typeof finkClientPython>;
  withTestCluster((started) => {
    cluster = started;
    found = finkClientPython();
    // One topic per survey that takes every alert of it, whole: a filter folder of the test's own.
    const filters = tempDir('filters');
    writeFileSync(join(filters, 'every_rubin.ts'), "export const survey = 'lsst';\nexport const description = 'every Rubin alert';\nexport function filter(): boolean {\n  return true;\n}\n");
    writeFileSync(join(filters, 'every_ztf.ts'), "export const description = 'every ZTF alert';\nexport function filter(): boolean {\n  return true;\n}\n");
    setup = distributionSetup(cluster, { FILTERS_DIR: filters });
    const paths = [...(lsstPresent() ? [LSST_DATA] : []), ...(realDataPresent() ? [ZTF_DATA, FINK_DATA] : [])];
    if (paths.length > 0) {
      const ingest = runCli('fink', ['ingest', ...paths], setup.env);
      assert.equal(ingest.status, 0, ingest.stderr);
    }
    for (const [survey, night] of [['lsst', '20261201'], ['ztf', '20261201']]) {
      const sim = runCli('fink', ['simulate', '--survey', survey!, '--count', '40', '--seed', '61', '--night', night!], setup.env);
      assert.equal(sim.status, 0, sim.stderr);
    }
    const run = runCli('fink', ['start', 'distribution', '--until-caught-up'], setup.env);
    assert.equal(run.status, 0, run.stderr);
  });

  test('fink-client (survey="lsst") reads every Rubin alert once, each byte as stored; the samples as they are in their files', async (t) => {
    if (!haveLsstData(t)) return;
    if ('reason' in found) {
      prerequisiteMissing(t, found.reason);
      return;
    }
    const stored = readStored(setup.dbDir).filter((a) => a.survey === 'lsst');
    assert.equal(stored.length, 41, 'the 40 simulated Rubin alerts and the samples (one diaSourceId for the three)');
    const consumed = consumeWithFinkClient<Consumed>(found.python, cluster.bootstrap, 'fink_every_rubin_lsst', stored.length, { survey: 'lsst' });
    assert.equal(consumed.length, stored.length);
    assert.equal(new Set(consumed.map((c) => c.diaSourceId)).size, stored.length, 'each alert once');
    const want = new Map(stored.map((a) => [String(a.alertId), sha256(a.wire)]));
    for (const c of consumed) assert.equal(c.sha256, want.get(c.diaSourceId!), `alert ${c.diaSourceId}: re-encoded by fastavro, the bytes stored`);
    // The sample that was stored is byte for byte the datum of its file.
    const samples = LSST_SAMPLES.flatMap((file) => [...readContainer(readFileSync(file)).blocks()].map((b) => sha256(b.data)));
    assert.ok(consumed.some((c) => samples.includes(c.sha256)), "a Rubin sample went out as it is in Rubin's file");
  });

  test('in the same run, fink-client (survey="ztf") reads every ZTF alert once, each byte as stored', async (t) => {
    if ('reason' in found) {
      prerequisiteMissing(t, found.reason);
      return;
    }
    const stored = readStored(setup.dbDir).filter((a) => a.survey === 'ztf');
    const consumed = consumeWithFinkClient<Consumed>(found.python, cluster.bootstrap, 'fink_every_ztf_ztf', stored.length);
    assert.equal(consumed.length, stored.length);
    const want = new Map(stored.map((a) => [String(a.alertId), sha256(a.wire)]));
    for (const c of consumed) assert.equal(c.sha256, want.get(c.candid!), `alert ${c.candid}`);
  });
});
