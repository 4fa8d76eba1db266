// User filters read by fink-client from PyPI (issue 23, "Done when"): a filter added while the
// distribution runs, the distribution SIGKILLed and restarted, and fink-client's AlertConsumer
// reading the user's topic; and a Rubin filter over alerts made from Rubin's published samples. What
// each topic must hold is worked out here from the source alerts with a plain TypeScript predicate
// (never the condition compiler), and each alert fink-client reads is compared with its source
// field by field (through the project's decoding of the message, which fink-client's re-encoding
// then matches byte for byte).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { encodeContainer, readContainer } from '../../src/avro/container.ts';
import { parseAvroType, sanitizeSchema, type RecordSchema } from '../../src/avro/schema.ts';
import { simulateIntoDb, createSimulation } from '../../src/sciencedb/simulate.ts';
import type { NewAlert } from '../../src/sciencedb/store.ts';
import { runCli, runFink } from '../helpers/cli.ts';
import { decodeIndependently, haveLsstData, LSST_DATA, LSST_VERSIONS } from '../helpers/data.ts';
import { committedAlerts, decodeWithKey, distributionSetup, readAll, SESSION_OPEN, spawnDistribution, waitForCommitted, type DistributionSetup } from '../helpers/distribution.ts';
import { withTestCluster, type TestCluster } from '../helpers/kafka.ts';
import { consumeWithFinkClient, finkClientPython, FINK_CLIENT_VERSION, pythonOr } from '../helpers/python.ts';
import { tempDir } from '../helpers/temp.ts';
import { plain } from '../helpers/values.ts';
import { waitFor } from '../helpers/wait.ts';

interface Consumed {
  topic: string;
  candid?: string;
  diaSourceId?: string;
  cutouts?: (string | null)[];
  fields: string[];
  sha256: string;
}

const NIGHT = '20261205';
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
let tags = 0;

function userSetup(cluster: TestCluster, overrides: Record<string, string> = {}): DistributionSetup {
  const tag = `ufc${process.pid}x${++tags}`;
  return distributionSetup(cluster, { USER_FILTERS_TOPIC: `${tag}_registrations`, USER_TOPIC_PREFIX: `${tag}_u_`, DISTRIBUTION_BATCH: '40', DISTRIBUTION_POLL_MS: '100', ...overrides });
}

async function addFilter(setup: DistributionSetup, name: string, survey: 'ztf' | 'lsst', where: string): Promise<string> {
  const added = await runFink(['filter', 'add', name, '--survey', survey, '--where', where], setup.env);
  assert.equal(added.status, 0, added.output);
  const topic = `${setup.config.require('USER_TOPIC_PREFIX')}public_${name}_${survey}`;
  assert.equal(added.output, `${topic}\n`);
  return topic;
}

/** A stored alert as its source decodes it: the alert, and its added values after it. */
function sourceRecord(alert: NewAlert): unknown {
  const fields = parseAvroType(JSON.parse(alert.schemaJson) as RecordSchema).fromBuffer(Buffer.from(alert.datum)) as Record<string, unknown>;
  const added = alert.added === null ? {} : (parseAvroType(JSON.parse(alert.added.schemaJson) as RecordSchema).fromBuffer(Buffer.from(alert.added.datum)) as Record<string, unknown>);
  return plain({ ...fields, ...added });
}

/** Exactly the ids of `want`, none twice. */
function assertExactly(got: readonly string[], want: readonly string[], what: string): void {
  assert.ok(want.length > 0, `${what}: the test's alerts match the condition at all`);
  assert.equal(new Set(got).size, got.length, `${what}: no alert twice (${got.length - new Set(got).size} doubled)`);
  assert.deepEqual([...got].sort(), [...want].sort(), `${what}: exactly the matching alerts`);
}

describe(`user filters read by fink-client ${FINK_CLIENT_VERSION} (PyPI)`, { timeout: 900_000 }, () => {
  let cluster: TestCluster;
  let found: ReturnType<typeof finkClientPython>;
  withTestCluster((started) => {
    cluster = started;
    found = finkClientPython();
  });

  test('a filter added while the distribution runs, across a SIGKILL: fink-client reads exactly the matching alerts stored after add, none twice, every field as stored', async (t) => {
    const python = pythonOr(t, found);
    if (python === undefined) return;
    const setup = userSetup(cluster);
    assert.equal(simulateIntoDb(setup.dbDir, { profile: 'ztf-light', seed: 41, night: NIGHT }, 200), 200);
    const first = spawnDistribution(setup.env);
    try {
      await first.waitForOutput(SESSION_OPEN, 'the first run: its producer session');
      assert.equal(await waitForCommitted(setup, 200), 200, first.output());
      const topic = await addFilter(setup, 'bright_r', 'ztf', 'magpsf < 18.5 AND fid = 2 AND ndethist >= 2');
      assert.equal(simulateIntoDb(setup.dbDir, { profile: 'ztf-light', seed: 42, night: NIGHT }, 3000), 3000);
      await waitFor('a commit after the add', async () => (await committedAlerts(setup)) > 400, { everyMs: 100, detail: first.output });
      first.child.kill('SIGKILL');
      await first.exited;
      const at = await committedAlerts(setup);
      assert.ok(at < 3200, `the kill landed mid-run (${at} of 3200 committed)`);
      const finish = await runFink(['start', 'distribution', '--until-caught-up'], setup.env);
      assert.equal(finish.status, 0, finish.output);

      // The condition evaluated here, on the source alerts (the 3,000 stored after add returned).
      const sim = createSimulation({ profile: 'ztf-light', seed: 42, night: NIGHT });
      const sources = new Map<string, unknown>();
      for (let i = 0; i < 3000; i++) {
        const alert = sim.next();
        const f = alert.fields as { magpsf?: number | null; fid?: number | null; ndethist?: number | null };
        if (alert.survey === 'ztf' && f.magpsf != null && f.magpsf < 18.5 && f.fid === 2 && f.ndethist != null && f.ndethist >= 2) sources.set(String(alert.alertId), sourceRecord(alert));
      }
      const messages = await readAll(setup.config, topic);
      const bySha = new Map(messages.map((m) => [String(decodeWithKey(m).candid), { sha: sha256(m.value!), fields: (JSON.parse(m.key!.toString()) as { fields: { name: string }[] }).fields.map((x) => x.name) }]));
      for (const m of messages) {
        const alert = decodeWithKey(m);
        assert.deepEqual(plain(alert), sources.get(String(alert.candid)), `${topic}: alert ${String(alert.candid)} as stored, every field`);
      }
      t.diagnostic(`${sources.size} of the 3,000 alerts stored after add match; ${at} alerts were committed at the kill`);
      const consumed = consumeWithFinkClient<Consumed>(python, cluster.bootstrap, topic, sources.size);
      assertExactly(consumed.map((c) => c.candid!), [...sources.keys()], `${topic} read by fink-client`);
      assert.equal(messages.length, sources.size, `${topic} holds nothing else (read_committed)`);
      for (const c of consumed) {
        assert.equal(c.topic, topic);
        assert.deepEqual(c.fields, bySha.get(c.candid!)?.fields, `alert ${c.candid}: its fields, in order`);
        assert.equal(c.sha256, bySha.get(c.candid!)?.sha, `alert ${c.candid}: re-encoded by fastavro, the bytes of the message`);
      }
    } finally {
      first.child.kill('SIGKILL');
    }
  });

  test('a Rubin filter (band, snr, psfFlux, reliability) over alerts made from Rubin\'s samples: fink-client reads exactly the matches, each byte as ingested', async (t) => {
    if (!haveLsstData(t)) return;
    const python = pythonOr(t, found);
    if (python === undefined) return;
    const setup = userSetup(cluster);
    // Rubin's sample of each version, its diaSource varied (ids past 2^53, every band, a range of
    // fluxes, signal to noise and reliability, some without), re-encoded with the sample's own schema.
    const files = tempDir('rubin-user-filter');
    const bands = ['u', 'g', 'r', 'i', 'z', 'y'];
    LSST_VERSIONS.forEach((version, v) => {
      const container = readContainer(readFileSync(join(LSST_DATA, `fakeAlert-${version}.avro`)));
      const schema = sanitizeSchema(container.schema as RecordSchema);
      const type = parseAvroType(schema);
      const sample = type.fromBuffer(Buffer.from([...container.blocks()][0]!.data)) as Record<string, unknown> & { diaSource: Record<string, unknown> };
      const datums = Array.from({ length: 24 }, (_, i) => {
        const id = 2n ** 62n + BigInt(v * 1000 + i);
        const diaSource = { ...sample.diaSource, diaSourceId: id, diaObjectId: 2n ** 60n + BigInt(i), band: bands[i % 6], psfFlux: 500 * (i + 1), snr: 3 * i, reliability: i % 5 === 0 ? null : (i % 4) / 4 };
        return type.toBuffer({ ...sample, diaSourceId: id, diaSource });
      });
      writeFileSync(join(files, `rubin-${version}.avro`), encodeContainer(schema, datums));
    });
    const topic = await addFilter(setup, 'rubin_bright', 'lsst', "band IN ('g', 'r') AND snr > 20 AND psfFlux >= 5000 AND reliability > 0.3");
    const ingest = runCli('fink', ['ingest', files], setup.env);
    assert.equal(ingest.status, 0, ingest.stderr);
    const run = runCli('fink', ['start', 'distribution', '--until-caught-up'], setup.env);
    assert.equal(run.status, 0, run.stderr);

    // The condition evaluated here, on the files as avsc's own container reader decodes them.
    const want = new Map<string, string>();
    for (const version of LSST_VERSIONS) {
      const decoded = await decodeIndependently(join(files, `rubin-${version}.avro`));
      const schema = parseAvroType(sanitizeSchema(decoded.schema as RecordSchema));
      for (const alert of decoded.values) {
        const s = alert.diaSource as { band: string; snr: number | null; psfFlux: number | null; reliability: number | null };
        if ((s.band === 'g' || s.band === 'r') && s.snr !== null && s.snr > 20 && s.psfFlux !== null && s.psfFlux >= 5000 && s.reliability !== null && s.reliability > 0.3) want.set(String(alert.diaSourceId), sha256(schema.toBuffer(alert)));
      }
    }
    t.diagnostic(`${want.size} of ${24 * LSST_VERSIONS.length} Rubin alerts match`);
    const consumed = consumeWithFinkClient<Consumed>(python, cluster.bootstrap, topic, want.size, { survey: 'lsst' });
    assertExactly(consumed.map((c) => c.diaSourceId!), [...want.keys()], `${topic} read by fink-client`);
    assert.equal((await readAll(setup.config, topic)).length, want.size, `${topic} holds nothing else (read_committed)`);
    for (const c of consumed) assert.equal(c.sha256, want.get(c.diaSourceId!), `alert ${c.diaSourceId}: decoded by fink-client, the bytes of the alert in its file`);
  });
});
