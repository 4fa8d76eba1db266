// The distribution writing the Confluent wire format on some topics and fink's on others, in one
// run, against a real broker and the project's real Apicurio registry: the real ZTF, Fink and Rubin
// alerts of ../shared/data read back by confluent-kafka's DeserializingConsumer with its
// AvroDeserializer (schemas fetched by id from the registry) and, on the fink topics, by
// fink-client; a schema change the registry refuses; and exactly once across SIGKILLs.
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { encodeContainer } from '../../src/avro/container.ts';
import { parseAvroType, schemaFingerprint, type RecordSchema } from '../../src/avro/schema.ts';
import { packageRoot } from '../../src/config/config.ts';
import { partitionOf } from '../../src/kafka/partitioner.ts';
import { expandPaths } from '../../src/sciencedb/ingest.ts';
import { decodeAlertFile, SchemaCache } from '../../src/sciencedb/decode.ts';
import { simulateIntoDb } from '../../src/sciencedb/simulate.ts';
import { runCli } from '../helpers/cli.ts';
import { FINK_DATA, haveLsstData, haveRealData, LSST_DATA, realDataPresent, ZTF_DATA } from '../helpers/data.ts';
import { committedAlerts, distributionSetup, readAll, SESSION_OPEN, spawnDistribution, waitForCommitted, type DistributionSetup } from '../helpers/distribution.ts';
import { assertExactlyOnce, expectedTopics } from '../helpers/exactly-once.ts';
import { freePortPair, type TestCluster } from '../helpers/kafka.ts';
import { consumeWithFinkClient, pythonOr, schemaRegistryPython } from '../helpers/python.ts';
import { seededRandom } from '../helpers/random.ts';
import { withClusterAndRegistry, type TestRegistry } from '../helpers/registry.ts';
import { confluentDecoder } from '../helpers/confluent.ts';
import { readStored } from '../helpers/stored.ts';
import { tempDir } from '../helpers/temp.ts';
import { waitFor } from '../helpers/wait.ts';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const everyAlert = (survey: 'ztf' | 'lsst') => `export const survey = '${survey}';\nexport const description = 'every alert';\nexport function filter(): boolean {\n  return true;\n}\n`;

/** A filter folder: `conf_<survey>` and `plain_<survey>` both take every alert of their survey. */
function bothFormatsFilters(): string {
  const dir = tempDir('filters');
  for (const survey of ['ztf', 'lsst'] as const) {
    writeFileSync(join(dir, `conf_${survey}.ts`), everyAlert(survey));
    writeFileSync(join(dir, `plain_${survey}.ts`), everyAlert(survey));
  }
  return dir;
}

interface Decoded {
  partition: number;
  key: string;
  alertId: string;
  equal: boolean;
  diff: unknown;
}

describe('the Confluent wire format on some topics, fink on others', { timeout: 900_000 }, () => {
  let cluster: TestCluster;
  let registry: TestRegistry;
  let setup: DistributionSetup;
  let run: ReturnType<typeof runCli> | undefined;
  withClusterAndRegistry((c, r) => {
    [cluster, registry] = [c, r];
    // Rubin's major versions now pass BACKWARD (the check is lifted for a new major version:
    // confluent-major.test.ts), but ZTF 3.2 -> 3.3 on one subject is a break within major 3 (3.3
    // adds candidate.drb without a default) that BACKWARD refuses by design, and the level is one
    // key for every subject of the run: so this run asks for NONE. What it checks is the wire, not
    // the registry's rules (the refusal below has BACKWARD).
    setup = distributionSetup(cluster, { FILTERS_DIR: bothFormatsFilters(), DISTRIBUTION_FORMAT_TOPICS: 'fink_conf_.*=confluent', DISTRIBUTION_SCHEMA_REGISTRY: registry.url, DISTRIBUTION_SCHEMA_COMPATIBILITY: 'NONE' });
    if (!realDataPresent()) return;
    const ingest = runCli('fink', ['ingest', ZTF_DATA, FINK_DATA, LSST_DATA], setup.env);
    assert.equal(ingest.status, 0, ingest.stderr);
    run = runCli('fink', ['start', 'distribution', '--until-caught-up'], setup.env);
  });

  test('a confluent topic holds a zero byte, the id of the stored schema in the registry and the stored datum; its key is the object id, its partition the fink topic\'s for that object', async (t) => {
    if (!haveRealData(t) || !haveLsstData(t) || run === undefined) return;
    assert.equal(run.status, 0, run.stderr);
    const stored = new Map(readStored(setup.dbDir).map((a) => [`${a.survey}/${a.alertId}`, a]));
    const decode = confluentDecoder(registry.url);
    for (const survey of ['ztf', 'lsst'] as const) {
      const confluent = await readAll(setup.config, `fink_conf_${survey}_${survey}`);
      const fink = new Map((await readAll(setup.config, `fink_plain_${survey}_${survey}`)).map((m) => [sha256(m.value!), m]));
      assert.equal(confluent.length, [...stored.values()].filter((a) => a.survey === survey).length, `${survey}: every stored alert`);
      const partitions = Math.max(...confluent.map((m) => m.partition)) + 1;
      for (const m of confluent) {
        const { datum, value, schema } = await decode(m);
        const id = (survey === 'ztf' ? value.candid : value.diaSourceId) as bigint;
        const alert = stored.get(`${survey}/${id}`);
        assert.ok(alert !== undefined, `${survey} alert ${id} was stored`);
        assert.ok(datum.equals(Buffer.from(alert.wire)), `alert ${id}: the datum as stored`);
        assert.equal(m.key!.toString('utf8'), alert.objectKey, `alert ${id}: the key is its object`);
        assert.equal(m.partition, partitionOf(alert.objectKey, partitions), `alert ${id}: partitioned by its object`);
        assert.equal(fink.get(sha256(datum))?.partition, m.partition, `alert ${id}: the same partition on the fink topic`);
        const finkKey = fink.get(sha256(datum))!.key!.toString();
        assert.equal(schemaFingerprint(parseAvroType(schema)), schemaFingerprint(parseAvroType(JSON.parse(finkKey))), `alert ${id}: the registry's schema is the fink key's`);
      }
    }
  });

  test("confluent-kafka's DeserializingConsumer with AvroDeserializer decodes every message against the registry, every field identical to the source files", (t) => {
    if (!haveRealData(t) || !haveLsstData(t) || run === undefined) return;
    const python = pythonOr(t, schemaRegistryPython());
    if (python === undefined) return;
    const script = join(packageRoot(), 'test', 'interop', 'confluent_avro_consume.py');
    for (const [survey, sources] of [['ztf', [ZTF_DATA, FINK_DATA]], ['lsst', [LSST_DATA]]] as const) {
      const count = readStored(setup.dbDir).filter((a) => a.survey === survey).length;
      const files = expandPaths([...sources]).files;
      const consumed: SpawnSyncReturns<string> = spawnSync(python, [script, cluster.bootstrap, registry.url, `fink_conf_${survey}_${survey}`, String(count), '90', ...files], { encoding: 'utf8', timeout: 180_000, maxBuffer: 1 << 28 });
      assert.equal(consumed.status, 0, `${survey}: ${consumed.stderr}`);
      const lines: Decoded[] = consumed.stdout.trim().split('\n').map((l: string) => JSON.parse(l) as Decoded);
      assert.equal(lines.length, count);
      assert.equal(new Set(lines.map((l) => l.alertId)).size, count, `${survey}: each alert once`);
      for (const l of lines) assert.ok(l.equal, `${survey} alert ${l.alertId}: ${JSON.stringify(l.diff)}`);
    }
  });

  test('in the same run, fink-client reads the fink-format topics, each alert identical to what was stored', (t) => {
    if (!haveRealData(t) || !haveLsstData(t) || run === undefined) return;
    const python = pythonOr(t, schemaRegistryPython());
    if (python === undefined) return;
    for (const survey of ['ztf', 'lsst'] as const) {
      const stored = readStored(setup.dbDir).filter((a) => a.survey === survey);
      const consumed: { candid?: string; diaSourceId?: string; sha256: string }[] = consumeWithFinkClient<{ candid?: string; diaSourceId?: string; sha256: string }>(python, cluster.bootstrap, `fink_plain_${survey}_${survey}`, stored.length, { survey });
      const want = new Map(stored.map((a) => [String(a.alertId), sha256(a.wire)]));
      assert.equal(consumed.length, stored.length);
      for (const c of consumed) assert.equal(c.sha256, want.get((c.candid ?? c.diaSourceId)!), `${survey} alert ${c.candid ?? c.diaSourceId}`);
    }
  });

  test('a schema change that breaks BACKWARD within ZTF 3.3 is refused: exit 1, one line naming the subject and the field, nothing of its batch sent; the subject was created BACKWARD', async (t) => {
    if (!haveRealData(t)) return;
    const ztf33 = expandPaths([ZTF_DATA]).files.find((f) => f.endsWith('472263571115115000.avro'))!;
    const own = distributionSetup(cluster, { FILTERS_DIR: tempDir('no-filters'), DISTRIBUTION_FORMAT: 'confluent', DISTRIBUTION_SCHEMA_REGISTRY: registry.url, DISTRIBUTION_TEST_TOPIC: 'refusal_test' });
    const first = runCli('fink', ['ingest', ztf33], own.env);
    assert.equal(first.status, 0, first.stderr);
    const ok = runCli('fink', ['start', 'distribution', '--until-caught-up'], own.env);
    assert.equal(ok.status, 0, ok.stderr);
    const config = await fetch(`${registry.url}/config/refusal_test-value`).then((r) => r.json() as Promise<{ compatibilityLevel?: string; compatibility?: string }>);
    assert.equal(config.compatibilityLevel ?? config.compatibility, 'BACKWARD');
    // The same alert under a ZTF 3.3 schema with one more field, without a default: a reader of the
    // new schema cannot read what was written with the old one.
    const [alert] = decodeAlertFile(readFileSync(ztf33), new SchemaCache());
    const schema = JSON.parse(alert!.schemaJson) as RecordSchema;
    const changed: RecordSchema = { ...schema, fields: [...schema.fields, { name: 'fink_extra', type: 'int' }] };
    const value = parseAvroType(schema).fromBuffer(Buffer.from(alert!.datum)) as Record<string, unknown>;
    const variantDir = tempDir('variant');
    mkdirSync(variantDir, { recursive: true });
    const variant = join(variantDir, 'variant.avro');
    writeFileSync(variant, encodeContainer(changed, [parseAvroType(changed).toBuffer({ ...value, candid: (value.candid as bigint) + 1n, fink_extra: 7 })]));
    const second = runCli('fink', ['ingest', variant], own.env);
    assert.equal(second.status, 0, second.stderr);
    const refused = runCli('fink', ['start', 'distribution', '--until-caught-up'], own.env);
    assert.equal(refused.status, 1, refused.stderr);
    const errors = refused.stderr.split('\n').filter((l) => l.startsWith('fink:'));
    assert.equal(errors.length, 1, refused.stderr);
    t.diagnostic(errors[0]!);
    assert.match(errors[0]!, /refused a new schema of topic refusal_test \(subject refusal_test-value, field fink_extra\)/);
    assert.doesNotMatch(refused.stderr, /^\s+at /m, 'no stack');
    const messages = await readAll(own.config, 'refusal_test');
    assert.equal(messages.length, 1, 'the first alert only: nothing of the refused batch');
  });

  test('killed with SIGKILL at random moments, some between a registration and its commit, restarted: every alert exactly once on every confluent topic', async (t) => {
    const night = '20261124';
    // Its own test topic: distribution_test on this cluster holds the first run's fink messages.
    const own = distributionSetup(cluster, { DISTRIBUTION_BATCH: '40', DISTRIBUTION_FORMAT: 'confluent', DISTRIBUTION_SCHEMA_REGISTRY: registry.url, DISTRIBUTION_TEST_TOPIC: 'sigkill_test' });
    const count = 3000;
    simulateIntoDb(own.dbDir, { profile: 'ztf-light', seed: 21, night }, count);
    const random = seededRandom(t);
    let betweenSeen = false;
    for (let kill = 0; kill < 4; kill++) {
      const before = await committedAlerts(own);
      const child = spawnDistribution(own.env, ['--until-caught-up']);
      await child.waitForOutput(SESSION_OPEN, `run ${kill + 1}: its producer session`);
      if (kill === 0) {
        // The first run registers its schemas before its first commit: killed as soon as one is registered.
        await child.waitForOutput(/schema registered/, 'run 1: a schema registered');
        child.child.kill('SIGKILL');
        await child.exited;
        betweenSeen = (await committedAlerts(own)) === 0;
        continue;
      }
      if (kill % 2 === 0) await waitFor(`run ${kill + 1}: a commit`, async () => child.child.exitCode !== null || (await committedAlerts(own)) > before, { everyMs: 100 });
      await sleep(random.below(600));
      child.child.kill('SIGKILL');
      await child.exited;
    }
    assert.ok(betweenSeen, 'the first kill landed after a registration and before any commit');
    const finish = runCli('fink', ['start', 'distribution', '--until-caught-up'], own.env);
    assert.equal(finish.status, 0, finish.stderr);
    const decode = confluentDecoder(registry.url);
    await assertExactlyOnce(t, cluster, own, await expectedTopics(own, night, [{ seed: 21, count }]), async (m) => (await decode(m)).value.candid as bigint);
  });

  test('the registry not answering under a running service: one line, nothing sent meanwhile, then every alert once when it is back', async (t) => {
    const night = '20261125';
    // A real HTTP hop in front of the registry that answers 503 while `down`, as a registry restarting would.
    let down = true;
    const target = new URL(registry.url);
    const proxy = createServer((req, res) => {
      if (down) {
        res.writeHead(503, { 'Content-Type': 'application/json' }).end('{"message":"restarting","error_code":50301}');
        return;
      }
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = chunks.length === 0 ? undefined : Buffer.concat(chunks);
        fetch(`${target.origin}${req.url}`, { method: req.method, headers: { 'Content-Type': req.headers['content-type'] ?? 'application/json', Accept: req.headers.accept ?? '*/*' }, body })
          .then(async (answer) => res.writeHead(answer.status, { 'Content-Type': answer.headers.get('content-type') ?? 'application/json' }).end(Buffer.from(await answer.arrayBuffer())))
          .catch((err: Error) => res.writeHead(502).end(err.message));
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    t.after(() => proxy.close());
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}${target.pathname}`;
    const own = distributionSetup(cluster, { FILTERS_DIR: tempDir('no-filters'), DISTRIBUTION_BATCH: '50', DISTRIBUTION_FORMAT: 'confluent', DISTRIBUTION_SCHEMA_REGISTRY: proxyUrl, DISTRIBUTION_TEST_TOPIC: 'outage_test' });
    simulateIntoDb(own.dbDir, { profile: 'ztf-light', seed: 22, night }, 400);
    const service = spawnDistribution(own.env);
    t.after(() => service.child.kill('SIGKILL'));
    await service.waitForOutput(/Schema registry unavailable: retrying with backoff/, 'the service to report the registry away');
    assert.equal(await committedAlerts(own), 0, 'nothing committed while the registry is away');
    assert.equal(service.child.exitCode, null, 'the service waits');
    down = false;
    assert.equal(await waitForCommitted(own, 400), 400);
    await service.waitForOutput(/Schema registry is back/, 'the service to say the registry is back');
    const stop = runCli('fink', ['stop', 'distribution'], own.env);
    assert.equal(stop.status, 0, stop.stderr);
    assert.equal(await service.exited, 0, service.output());
    assert.equal(service.output().match(/Schema registry unavailable/g)?.length, 1, `one line for the outage:\n${service.output()}`);
    const decode = confluentDecoder(registry.url);
    const candids = await Promise.all((await readAll(own.config, 'outage_test')).map(async (m) => (await decode(m)).value.candid as bigint));
    assert.equal(candids.length, 400);
    assert.equal(new Set(candids).size, 400, 'each alert once');
  });

  test('--until-caught-up with a registry that does not answer: exit 1, one line naming it (its credentials hidden), nothing sent', async () => {
    const port = await freePortPair(1);
    const own = distributionSetup(cluster, { FILTERS_DIR: tempDir('no-filters'), DISTRIBUTION_FORMAT: 'confluent', DISTRIBUTION_SCHEMA_REGISTRY: `http://writer:s3cret@127.0.0.1:${port}/apis/ccompat/v7`, DISTRIBUTION_TEST_TOPIC: 'unanswered_test' });
    simulateIntoDb(own.dbDir, { profile: 'ztf-light', seed: 23, night: '20261126' }, 50);
    const run = runCli('fink', ['start', 'distribution', '--until-caught-up'], own.env);
    assert.equal(run.status, 1, run.stderr);
    const errors = run.stderr.split('\n').filter((l) => l.startsWith('fink:'));
    assert.equal(errors.length, 1, run.stderr);
    assert.match(errors[0]!, new RegExp(`schema registry at http://\\*\\*\\*@127\\.0\\.0\\.1:${port}/apis/ccompat/v7/\\S* cannot be reached`));
    assert.doesNotMatch(run.stderr, /s3cret/);
    assert.equal((await readAll(own.config, 'unanswered_test')).length, 0);
  });
});
