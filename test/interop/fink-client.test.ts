import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { runCli } from '../helpers/cli.ts';
import { FINK_DATA, realDataPresent, SHARED_DATA, ZTF_DATA } from '../helpers/data.ts';
import { decodeWithKey, distributionSetup, readAll, type DistributionSetup } from '../helpers/distribution.ts';
import { withTestCluster, type TestCluster } from '../helpers/kafka.ts';
import { prerequisiteMissing, prerequisiteNoted } from '../helpers/prerequisites.ts';
import { consumeWithFinkClient, finkClientPython, FINK_CLIENT_VERSION } from '../helpers/python.ts';

interface Consumed {
  topic: string;
  objectId: string;
  candid: string;
  fields: string[];
  sha256: string;
}

describe(`fink-client ${FINK_CLIENT_VERSION} (PyPI) reads what the service distributes`, () => {
  let cluster: TestCluster;
  let setup: DistributionSetup;
  let found: ReturnType<typeof finkClientPython>;
  // 50 simulated alerts (64-bit candids, added values), and the 15 real ones where the shared
  // data is there: what fink-client must read is what the project's reader reads.
  const real = realDataPresent();
  const count = real ? 65 : 50;
  withTestCluster((started) => {
    cluster = started;
    found = finkClientPython();
    setup = distributionSetup(cluster, { DISTRIBUTION_TOPICS: 'light' });
    if (real) assert.equal(runCli('fink', ['ingest', ZTF_DATA, FINK_DATA], setup.env).status, 0);
    assert.equal(runCli('fink', ['simulate', '--count', '50', '--seed', '31', '--night', '20261105'], setup.env).status, 0);
    const run = runCli('fink', ['start', 'distribution', '--until-caught-up'], setup.env);
    assert.equal(run.status, 0, run.stderr);
  });

  test(`its AlertConsumer decodes every alert of distribution_test unchanged, each once: simulated${real ? ' and real' : ` (no real ones: ${SHARED_DATA} is absent)`}`, async (t) => {
    if ('reason' in found) {
      prerequisiteMissing(t, found.reason);
      return;
    }
    if (!real) prerequisiteNoted(t, `real alerts not found at ${SHARED_DATA} (the shared data folder beside the project)`, 'simulated alerts only');
    const { python } = found;
    const messages = await readAll(setup.config, 'distribution_test');
    assert.equal(messages.length, count);
    const expected = new Map(messages.map((m) => {
      const alert = decodeWithKey(m);
      return [String(alert.candid), { objectId: alert.objectId as string, sha256: createHash('sha256').update(m.value!).digest('hex'), fields: JSON.parse(m.key!.toString()).fields.map((f: { name: string }) => f.name) as string[] }];
    }));
    const consumed = consumeWithFinkClient<Consumed>(python, cluster.bootstrap, 'distribution_test', count);
    assert.equal(consumed.length, count);
    assert.equal(new Set(consumed.map((c) => c.candid)).size, count, 'each alert once');
    for (const c of consumed) {
      const want = expected.get(c.candid);
      assert.ok(want !== undefined, `alert ${c.candid} was distributed`);
      assert.equal(c.objectId, want.objectId);
      assert.deepEqual(c.fields, want.fields, `alert ${c.candid}: the fields, in order`);
      assert.equal(c.sha256, want.sha256, `alert ${c.candid}: re-encoded by fastavro, the bytes of the message`);
    }
    assert.ok(consumed.some((c) => BigInt(c.candid) > 2n ** 53n && c.fields.includes('rf_snia_vs_nonia')), 'simulated alerts with added values, 64-bit candids');
  });

  test('the light topic, with its own schema, too', async (t) => {
    if ('reason' in found) {
      prerequisiteMissing(t, found.reason);
      return;
    }
    const consumed = consumeWithFinkClient<Consumed>(found.python, cluster.bootstrap, 'fink_light_ztf', count);
    assert.equal(consumed.length, count);
    const messages = new Map((await readAll(setup.config, 'fink_light_ztf')).map((m) => [String(decodeWithKey(m).candid), createHash('sha256').update(m.value!).digest('hex')]));
    for (const c of consumed) {
      assert.equal(c.fields.some((f) => f.startsWith('cutout')), false);
      assert.equal(c.sha256, messages.get(c.candid));
    }
  });
});
