// fink-client from PyPI reads a topic of Rubin alerts, on the wire as the distribution sends them
// (key: the writer schema as compact JSON, value: the datum), with survey="lsst". fink-client's
// survey changes nothing in decoding (it parses the key and reads the value with fastavro, as for
// ZTF); it only changes how poll_and_write names the files it saves (by diaSourceId).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { loadConfig } from '../../src/config/config.ts';
import { testEnv } from '../helpers/cli.ts';
import { haveLsstData } from '../helpers/data.ts';
import { withTestCluster, type TestCluster } from '../helpers/kafka.ts';
import { consumeWithFinkClient, finkClientPython, FINK_CLIENT_VERSION, pythonOr } from '../helpers/python.ts';
import { lsstMessages, produceMessages } from '../helpers/wire.ts';

interface Consumed {
  diaSourceId: string;
  diaObjectId: string | null;
  cutouts: (string | null)[];
  fields: string[];
  sha256: string;
}

const TOPIC = 'fink_rubin_interop_lsst';

describe(`fink-client ${FINK_CLIENT_VERSION} (PyPI) reads Rubin alerts with survey="lsst"`, { timeout: 400_000 }, () => {
  let cluster: TestCluster;
  withTestCluster((started) => {
    cluster = started;
  });

  test('every alert once, its diaSourceId, diaObjectId and cutout bytes identical, its fields in order, its bytes unchanged', async (t) => {
    if (!haveLsstData(t)) return;
    const python = pythonOr(t, finkClientPython());
    if (python === undefined) return;
    const messages = lsstMessages();
    await produceMessages(loadConfig({ env: testEnv(cluster.env) }), TOPIC, messages);
    const consumed = consumeWithFinkClient<Consumed>(python, cluster.bootstrap, TOPIC, messages.length, { survey: 'lsst' });
    // One partition: fink-client reads the messages in the order they were sent.
    assert.equal(consumed.length, messages.length);
    messages.forEach((m, i) => {
      const c = consumed[i]!;
      assert.equal(c.diaSourceId, String(m.diaSourceId), `message ${i}`);
      assert.equal(c.diaObjectId, m.diaObjectId === null ? null : String(m.diaObjectId), `message ${i}`);
      assert.deepEqual(c.cutouts, m.cutouts.map((b) => (b === null ? null : b.toString('hex'))), `message ${i}: the cutouts`);
      assert.deepEqual(c.fields, (JSON.parse(m.key.toString()) as { fields: { name: string }[] }).fields.map((f) => f.name), `message ${i}: the fields, in order`);
      assert.equal(c.sha256, createHash('sha256').update(m.value).digest('hex'), `message ${i}: re-encoded by fastavro, the bytes of the message`);
    });
    assert.ok(consumed.some((c) => BigInt(c.diaSourceId) > 2n ** 53n && c.cutouts.every((x) => x !== null) && c.fields.includes('finkclass')), '64-bit ids, cutouts, a schema extended by added fields');
  });
});
