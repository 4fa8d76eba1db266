import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { decodeConfluent } from '../../src/avro/confluent-wire.ts';
import { readContainer } from '../../src/avro/container.ts';
import { parseAvroType, sanitizeSchema, type AvroSchema } from '../../src/avro/schema.ts';
import { fetchSchemaById } from '../../src/avro/schema-registry.ts';
import { loadConfig, packageRoot } from '../../src/config/config.ts';
import { kafkaClientOptions } from '../../src/kafka/client-options.ts';
import { readTopic, type ConsumedMessage } from '../../src/kafka/topic-reader.ts';
import { nightOfJd } from '../../src/alert/fields.ts';
import { createSimulation } from '../../src/sciencedb/simulate.ts';
import { runCli, testEnv } from '../helpers/cli.ts';
import { decodeIndependently, FINK_DATA, haveLsstData, haveRealData, LSST_SAMPLES, ZTF_DATA } from '../helpers/data.ts';
import type { TestCluster } from '../helpers/kafka.ts';
import { withClusterAndRegistry, type TestRegistry } from '../helpers/registry.ts';
import { tempDir } from '../helpers/temp.ts';
import { waitFor } from '../helpers/wait.ts';

type Value = Record<string, Record<string, unknown>>;

/** Every message of a topic, by partition in offset order. */
async function partitions(cluster: TestCluster, topic: string): Promise<ConsumedMessage[][]> {
  const config = loadConfig({ env: testEnv({ DISTRIBUTION_SERVERS: cluster.bootstrap }) });
  const out: ConsumedMessage[][] = [];
  for await (const m of readTopic(kafkaClientOptions(config), topic)) (out[m.partition] ??= []).push(m);
  return out.filter((p) => p !== undefined);
}

function assertNonDecreasing(keys: readonly (number | bigint)[], what: string): void {
  for (let i = 1; i < keys.length; i++) assert.ok(keys[i - 1]! <= keys[i]!, `${what}: ${keys[i - 1]} then ${keys[i]}`);
}

// `fink start simulator` for real: a test cluster standing for the simulator cluster, the managed
// schema registry, the command run as a user would, and the topics read back.
describe('fink start simulator', { timeout: 900_000 }, () => {
  let cluster: TestCluster;
  let registry: TestRegistry;
  let env: Record<string, string>;
  withClusterAndRegistry((c, r) => {
    [cluster, registry] = [c, r];
    env = { ...registry.env, SIMULATOR_SERVERS: cluster.bootstrap, SIMULATOR_PARTITIONS: '2' };
  });

  it('replays a ZTF night: exposures in jd order at the interval, each alert a one-alert container file on ztf_<night>_programid<N>', async (t) => {
    if (!haveRealData(t)) return;
    const night = tempDir('ztf-night');
    const sources = [ZTF_DATA, FINK_DATA].flatMap((dir) => readdirSync(dir).filter((f) => f.endsWith('.avro')).map((f) => join(dir, f)));
    sources.forEach((file, i) => copyFileSync(file, join(night, `${i}-${file.split('/').pop()}`)));
    const expected = (await Promise.all(sources.map(decodeIndependently))).flatMap((d) => d.values as Value[]);
    const interval = 0.5;
    const began = BigInt(Date.now());
    const r = runCli('fink', ['start', 'simulator', '--survey', 'ztf', '--night', night, '--visit-interval', String(interval)], env);
    assert.equal(r.status, 0, r.stderr);
    const jds = [...new Set(expected.map((a) => a.candidate!.jd as number))].sort((a, b) => a - b);
    assert.match(r.stdout, new RegExp(`done: ${jds.length} exposures, ${expected.length} alerts`));
    const printed = [...r.stdout.matchAll(/exposure \d+ \(jd ([\d.]+)\)/g)].map((m) => Number(m[1]));
    assert.deepEqual(printed, jds, 'the exposures, one per jd, in jd order');

    const topics = new Map<string, Value[]>();
    for (const a of expected) {
      const topic = `ztf_${nightOfJd(a.candidate!.jd as number)}_programid${a.candidate!.programid}`;
      topics.set(topic, [...(topics.get(topic) ?? []), a]);
    }
    const firstOf = new Map<number, bigint>();
    for (const [topic, alerts] of topics) {
      const got: Value[] = [];
      for (const partition of await partitions(cluster, topic)) {
        const values = partition.map((m) => {
          const container = readContainer(m.value as Buffer);
          const type = parseAvroType(sanitizeSchema(container.schema as AvroSchema));
          const blocks = [...container.blocks()];
          assert.deepEqual(blocks.map((b) => b.count), [1], `${topic}: one alert per message`);
          const value = type.fromBuffer(Buffer.from(blocks[0]!.data)) as Value;
          const jd = value.candidate!.jd as number;
          if (!firstOf.has(jd) || firstOf.get(jd)! > m.timestamp) firstOf.set(jd, m.timestamp);
          return value;
        });
        assertNonDecreasing(values.map((v) => v.candidate!.jd as number), `${topic}: exposures in order`);
        got.push(...values);
      }
      const byCandid = (a: Value, b: Value) => ((a.candid ?? a.candidate!.candid)! < (b.candid ?? b.candidate!.candid)! ? -1 : 1);
      assert.deepEqual(structuredClone(got.sort(byCandid)), structuredClone([...alerts].sort(byCandid)), `${topic}: every alert, value for value`);
    }
    // One exposure every interval: the last one no sooner than (exposures - 1) intervals after the
    // command started (sent at once, they would all be there within the command's first second).
    const firsts = jds.map((jd) => firstOf.get(jd)!);
    assert.ok(firsts.at(-1)! - began >= BigInt((jds.length - 1) * interval * 1000), `exposures at ${firsts.map((f) => f - began).join(', ')} ms after the start`);
  });

  it('replays simulated Rubin alerts: visits in order, Confluent wire format on lsst-alerts-v10, schema registered', async () => {
    const count = 2500;
    const options = { profile: 'lsst-light' as const, seed: 7, night: '20260101' };
    const r = runCli('fink', ['start', 'simulator', '--survey', 'lsst', '--simulate', String(count), '--profile', options.profile, '--seed', String(options.seed), '--date', options.night, '--speed', '1000'], env);
    assert.equal(r.status, 0, r.stderr);
    const simulation = createSimulation(options);
    const expected = new Map<bigint, Buffer>();
    for (let i = 0; i < count; i++) {
      const alert = simulation.next();
      expected.set(alert.alertId, Buffer.from(alert.datum));
    }
    const seen = new Set<bigint>();
    const schemas = new Map<number, string>();
    for (const partition of await partitions(cluster, 'lsst-alerts-v10')) {
      const visits: bigint[] = [];
      for (const m of partition) {
        const { schemaId, datum } = decodeConfluent(m.value as Buffer);
        if (!schemas.has(schemaId)) schemas.set(schemaId, await fetchSchemaById(registry.url, schemaId));
        const value = parseAvroType(JSON.parse(schemas.get(schemaId)!)).fromBuffer(datum) as Value & { diaSourceId: bigint };
        assert.ok(expected.get(value.diaSourceId)?.equals(datum), `alert ${value.diaSourceId}: the generator's datum, byte for byte`);
        assert.ok(!seen.has(value.diaSourceId), `alert ${value.diaSourceId} sent once`);
        seen.add(value.diaSourceId);
        visits.push(value.diaSource!.visit as bigint);
      }
      assertNonDecreasing(visits, 'lsst-alerts-v10: visits in order');
    }
    assert.equal(seen.size, count);
    assert.equal(schemas.size, 1);
    assert.equal((JSON.parse([...schemas.values()][0]!) as { name: string }).name, simulation.alertSchema.name);
  });

  it('stops after the exposure in flight on SIGTERM, exit 0', async () => {
    const child = spawn(process.execPath, [join(packageRoot(), 'bin', 'fink.ts'), 'start', 'simulator', '--survey', 'ztf', '--simulate', '400', '--profile', 'ztf-light', '--visit-interval', '0.5', '--loop'], { env: testEnv(env) });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await waitFor('two exposures sent', () => (out.match(/^exposure \d+/gm) ?? []).length >= 2, { detail: () => out });
    child.kill('SIGTERM');
    assert.equal(await exited, 0, out);
    assert.match(out, /stopping after the exposure in flight/);
    assert.match(out, /stopped: \d+ exposures, \d+ alerts/);
  });

  it('names what is wrong: no source, a missing folder, a bad speed, alerts of the other survey', (t) => {
    let r = runCli('fink', ['start', 'simulator'], env);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /give one of --night DIR or --simulate N/);
    r = runCli('fink', ['start', 'simulator', '--night', '/nonexistent/night'], env);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /no such file or folder: \/nonexistent\/night/);
    r = runCli('fink', ['start', 'simulator', '--speed', '0', '--simulate', '1'], env);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--speed expects a positive number, got '0'/);
    if (!haveLsstData(t)) return;
    r = runCli('fink', ['start', 'simulator', '--survey', 'ztf', '--night', LSST_SAMPLES[0]!], env);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /fakeAlert-v9_0\.avro: alert \d+ is a lsst alert, not ztf \(give --survey lsst\)/);
  });
});
