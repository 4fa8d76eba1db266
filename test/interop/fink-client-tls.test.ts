import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../helpers/cli.ts';
import { decodeIndependently, FINK_DATA, haveRealData, realDataPresent, ZTF_DATA } from '../helpers/data.ts';
import { decodeWithKey, distributionSetup, readAll, type DistributionSetup } from '../helpers/distribution.ts';
import { startTestCluster, type TestCluster } from '../helpers/kafka.ts';
import { consumeWithFinkClient, finkClientPython, FINK_CLIENT_VERSION, pythonOr } from '../helpers/python.ts';

interface Consumed {
  candid: string;
  objectId: string;
  fields: string[];
  sha256: string;
}

/** How many alerts the real files hold, counted by avsc's own container reader. */
async function realAlerts(): Promise<number> {
  let count = 0;
  for (const dir of [ZTF_DATA, FINK_DATA]) {
    for (const f of readdirSync(dir).filter((name) => name.endsWith('.avro'))) count += (await decodeIndependently(join(dir, f))).values.length;
  }
  return count;
}

describe(`the real alerts over TLS (SASL_SSL): the distribution writes them, fink-client ${FINK_CLIENT_VERSION} reads them with the CA file`, { timeout: 600_000 }, () => {
  let cluster: TestCluster;
  let setup: DistributionSetup;
  let expected: number;
  before(async () => {
    if (!realDataPresent()) return;
    expected = await realAlerts();
    cluster = await startTestCluster({ tls: true });
    setup = distributionSetup(cluster, { DISTRIBUTION_TOPICS: 'none' });
    const ingest = runCli('fink', ['ingest', ZTF_DATA, FINK_DATA], setup.env);
    assert.equal(ingest.status, 0, ingest.stderr);
  });
  after(async () => cluster?.stop());

  test('the distribution distributes every real alert over SASL_SSL, and the project reads them back over it', async (t) => {
    if (!haveRealData(t)) return;
    const run = runCli('fink', ['start', 'distribution', '--until-caught-up'], setup.env);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`distributed ${expected} alerts`));
    const messages = await readAll(setup.config, 'distribution_test');
    assert.equal(messages.length, expected);
  });

  test('fink-client reads every real alert, identical, over SASL_SSL with the CA file', async (t) => {
    if (!haveRealData(t)) return;
    const python = pythonOr(t, finkClientPython());
    if (python === undefined) return;
    const wanted = new Map((await readAll(setup.config, 'distribution_test')).map((m) => {
      const alert = decodeWithKey(m);
      return [String(alert.candid), { objectId: alert.objectId as string, sha256: createHash('sha256').update(m.value!).digest('hex') }];
    }));
    assert.equal(wanted.size, expected);
    const credentials = [cluster.env.KAFKA_SASL_USERNAME as string, cluster.env.KAFKA_SASL_PASSWORD as string];
    const consumed = consumeWithFinkClient<Consumed>(python, cluster.bootstrap, 'distribution_test', expected, { credentials, caFile: cluster.caFile as string });
    assert.equal(consumed.length, expected);
    assert.equal(new Set(consumed.map((c) => c.candid)).size, expected, 'each alert once');
    for (const c of consumed) {
      const want = wanted.get(c.candid);
      assert.ok(want !== undefined, `alert ${c.candid} was distributed`);
      assert.equal(c.objectId, want.objectId);
      assert.equal(c.sha256, want.sha256, `alert ${c.candid}: re-encoded by fastavro, the bytes of the message`);
    }
  });
});
