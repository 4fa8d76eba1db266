// The whole live chain, as a broker runs it: `fink start simulator` replays a ZTF night (the real
// alerts of ../shared/data) and a Rubin night (simulated, in the Confluent wire format, its schema
// in the managed schema registry) on a simulator cluster; `fink start stream2science` consumes it
// into the science database and is SIGKILLed several times at seeded random moments while the
// survey's exposures flow (the replays loop until then, so a slow machine takes longer, not fewer);
// `fink start distribution` runs all along and publishes on a second cluster, the community's.
// Every alert must be on every topic its filter selects exactly once, its bytes as the survey sent
// them: counted with the project's reader and with kcat.
import assert from 'node:assert/strict';
import { copyFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { decodeConfluent } from '../../src/avro/confluent-wire.ts';
import { parseAvroType, type AvroType } from '../../src/avro/schema.ts';
import { fetchSchemaById } from '../../src/avro/schema-registry.ts';
import { loadConfig } from '../../src/config/config.ts';
import { accepts, loadFilters } from '../../src/distribution/filters.ts';
import { distributionSettings } from '../../src/distribution/settings.ts';
import { planTopics } from '../../src/distribution/topics.ts';
import { kafkaClientOptions } from '../../src/kafka/client-options.ts';
import { listTopics } from '../../src/kafka/topics.ts';
import { readTopic } from '../../src/kafka/topic-reader.ts';
import { spawnFink, testEnv, type FinkProcess } from '../helpers/cli.ts';
import { FINK_DATA, haveRealData, ZTF_DATA } from '../helpers/data.ts';
import { decodeWithKey, distributionSetup, readAll, spawnDistribution, waitForCommitted, SESSION_OPEN, type DistributionProcess } from '../helpers/distribution.ts';
import { startTestCluster, type TestCluster } from '../helpers/kafka.ts';
import { seededRandom } from '../helpers/random.ts';
import { kcatIfInstalled, kcatReadCommitted } from '../helpers/readers.ts';
import { startTestRegistry, type TestRegistry } from '../helpers/registry.ts';
import { readStored } from '../helpers/stored.ts';
import { tempDir } from '../helpers/temp.ts';
import { realZtfAlerts, stream2scienceSetup } from '../helpers/upstream.ts';
import { waitFor } from '../helpers/wait.ts';

const RUBIN_ALERTS = 240;
/** stream2science is killed at least this many times while the simulators send. */
const MIN_LIVES = 3;
/** A bound on the lives, so that a chain that never gets its kills in flight fails instead of running on. */
const MAX_LIVES = 40;
/** Seconds between two exposures of the replay (ZTF's 14 exposures of the shared night take about 40 s a pass). */
const VISIT_INTERVAL_S = 3;
/** An exposure sent, as the simulator logs it: its number over the replay and its id (ZTF jd, Rubin visit). */
const EXPOSURE_SENT = /^exposure (\d+) \((?:jd|visit) ([^)]+)\)/gm;

const exposuresOf = (simulator: FinkProcess) => [...simulator.output().matchAll(EXPOSURE_SENT)].map((m) => ({ number: Number(m[1]), id: m[2]! }));
/** The replay has sent its whole night at least once: its first exposure came round again. */
const replayedOnce = (simulator: FinkProcess) => {
  const [first, ...rest] = exposuresOf(simulator);
  return first !== undefined && rest.some((e) => e.id === first.id);
};

describe('the live chain: simulator cluster -> stream2science -> science database -> distribution -> community', { timeout: 1_800_000 }, () => {
  let upstream: TestCluster;
  let community: TestCluster;
  let registry: TestRegistry;
  const running: FinkProcess[] = [];

  before(async () => {
    upstream = await startTestCluster();
    community = await startTestCluster();
    registry = await startTestRegistry();
  });

  after(async () => {
    for (const p of running) p.child.kill('SIGKILL');
    await Promise.all(running.map((p) => p.exited));
    await registry?.stop();
    await community?.stop();
    await upstream?.stop();
  });

  test('a ZTF night and a Rubin night replayed live, stream2science SIGKILLed several times: every alert on every matching community topic exactly once, identical to its source', async (t) => {
    if (!haveRealData(t)) return;
    const random = seededRandom(t);
    const setup = distributionSetup(community, { DISTRIBUTION_BATCH: '100' });
    const stream = stream2scienceSetup(upstream, 'ztf_.*,lsst-alerts-v.*', {
      UPSTREAM_FORMAT: 'ztf_.*=ztf,lsst-alerts-v.*=lsst',
      UPSTREAM_SCHEMA_REGISTRY: registry.url,
      SCIENCE_DB_PATH: setup.dbDir,
    });
    const simulatorEnv = { ...registry.env, SIMULATOR_SERVERS: upstream.bootstrap, SIMULATOR_PARTITIONS: '3' };
    const night = tempDir('live-ztf-night');
    const files = [ZTF_DATA, FINK_DATA].flatMap((dir) => readdirSync(dir).filter((f) => f.endsWith('.avro')).map((f) => join(dir, f)));
    files.forEach((file, i) => copyFileSync(file, join(night, `${i}-${file.split('/').pop()}`)));
    const ztf = realZtfAlerts();

    // The distribution runs all along, as it does in production: it publishes what stream2science
    // commits, while stream2science is killed and restarted.
    const distribution: DistributionProcess = spawnDistribution(setup.env);
    running.push(distribution);
    await distribution.waitForOutput(SESSION_OPEN, 'the distribution to open its session');

    const simulators = [
      spawnFink(['start', 'simulator', '--survey', 'ztf', '--night', night, '--visit-interval', String(VISIT_INTERVAL_S), '--loop'], simulatorEnv),
      spawnFink(['start', 'simulator', '--survey', 'lsst', '--simulate', String(RUBIN_ALERTS), '--profile', 'lsst', '--seed', '5', '--date', '20261125', '--visit-interval', String(VISIT_INTERVAL_S), '--loop'], simulatorEnv),
    ];
    running.push(...simulators);

    // stream2science's lives: each killed at a random moment. A kill counts when the simulators'
    // logs show an exposure sent while that life ran: the survey's messages were in flight into it.
    // The replays loop (the same alerts again, which the store keeps once) until MIN_LIVES kills
    // counted, however long a slow machine takes, and each night went out whole at least once.
    const exposuresSent = () => simulators.reduce((n, s) => n + exposuresOf(s).length, 0);
    let killsDuringStream = 0;
    for (let life = 1; killsDuringStream < MIN_LIVES && life <= MAX_LIVES; life++) {
      const child = spawnFink(['start', 'stream2science'], stream.env);
      running.push(child);
      await child.waitForOutput(/partition assigned/, 'stream2science to assign itself the partitions');
      const sentBefore = exposuresSent();
      const delay = 300 + random.below(2500);
      await sleep(delay);
      child.child.kill('SIGKILL');
      await child.exited;
      const sentDuring = exposuresSent() - sentBefore;
      if (sentDuring > 0) killsDuringStream++;
      t.diagnostic(`stream2science life ${life}: SIGKILL after ${delay} ms${sentDuring > 0 ? `, ${sentDuring} exposure(s) sent while it ran` : ', no exposure sent while it ran'}; ${readStored(setup.dbDir).length} alerts stored so far`);
    }
    assert.ok(killsDuringStream >= MIN_LIVES, `stream2science was killed ${killsDuringStream} times while exposures were sent, in ${MAX_LIVES} lives`);
    await waitFor('each simulator to send its whole night once', () => simulators.every(replayedOnce), { timeoutMs: 600_000, everyMs: 500, detail: () => simulators.map((s) => s.output()).join('\n') });
    for (const s of simulators) s.child.kill('SIGTERM');
    for (const s of simulators) assert.equal(await s.exited, 0, `the simulator failed:\n${s.output()}`);

    // The survey's side, as it was sent: the Rubin alerts read back from the simulator cluster,
    // each datum under the schema the registry gives for its id.
    const upstreamConfig = loadConfig({ env: testEnv({ DISTRIBUTION_SERVERS: upstream.bootstrap }) });
    const rubinTopics = (await listTopics(kafkaClientOptions(upstreamConfig, 'admin'))).filter((name) => /^lsst-alerts-v\d+$/.test(name));
    assert.equal(rubinTopics.length, 1, `one Rubin topic upstream (${rubinTopics.join(', ')})`);
    const source = new Map<bigint, Buffer>(ztf.map((a) => [a.alertId, a.datum]));
    const types = new Map<number, AvroType>();
    for await (const m of readTopic(kafkaClientOptions(upstreamConfig), rubinTopics[0]!)) {
      const { schemaId, datum } = decodeConfluent(m.value!);
      let type = types.get(schemaId);
      if (type === undefined) types.set(schemaId, (type = parseAvroType(JSON.parse(await fetchSchemaById(registry.url, schemaId)))));
      source.set((type.fromBuffer(datum) as { diaSourceId: bigint }).diaSourceId, Buffer.from(datum));
    }
    assert.equal(source.size, ztf.length + RUBIN_ALERTS, 'every source alert has its own id');

    // The last life runs until the chain has carried everything through.
    const last = spawnFink(['start', 'stream2science'], stream.env);
    running.push(last);
    await waitFor('every upstream alert stored', () => readStored(setup.dbDir).length >= source.size, { timeoutMs: 600_000, everyMs: 500, detail: () => `${readStored(setup.dbDir).length} of ${source.size} stored\n${last.output()}` });
    const committed = await waitForCommitted(setup, source.size, 600_000);
    assert.equal(committed, source.size, 'the distribution committed every alert of the science database');

    const stored = readStored(setup.dbDir);
    assert.equal(stored.length, source.size, 'the science database holds every upstream alert once');
    for (const a of stored) assert.ok(Buffer.from(a.datum).equals(source.get(a.alertId)!), `alert ${a.alertId} stored with its bytes as sent`);

    // Every topic: exactly the alerts its filter selects, once; whole alerts byte for byte as the survey sent them.
    const plans = planTopics(distributionSettings(setup.config).topics, await loadFilters(setup.config.require('FILTERS_DIR')));
    const independent = kcatIfInstalled(t, "counted with the project's reader only");
    let checked = 0;
    for (const plan of plans) {
      const want = new Set(stored.filter((a) => plan.filter === null || accepts(plan.filter, a)).map((a) => a.alertId));
      const messages = await readAll(setup.config, plan.topic);
      const ids = messages.map((m) => {
        const record = decodeWithKey(m);
        return (record.candid ?? record.diaSourceId) as bigint;
      });
      assert.equal(new Set(ids).size, ids.length, `${plan.topic}: no alert twice`);
      assert.deepEqual(new Set(ids), want, `${plan.topic}: exactly the alerts its filter selects (${ids.length} of ${want.size})`);
      if (plan.drop.length === 0) messages.forEach((m, i) => assert.ok(m.value!.equals(source.get(ids[i]!)!), `${plan.topic}: alert ${ids[i]} byte for byte as the survey sent it`));
      if (independent) assert.equal(kcatReadCommitted(community.bootstrap, plan.topic, '%p:%o:%S').length, want.size, `${plan.topic}: kcat at read_committed counts every alert once`);
      checked += messages.length;
    }
    assert.ok(plans.some((p) => p.topic === 'distribution_test'), 'the test topic, with every alert, is among the topics checked');
    t.diagnostic(`${source.size} alerts (${ztf.length} ZTF, ${RUBIN_ALERTS} Rubin) through the chain; ${checked} messages checked on ${plans.length} topics`);
  });
});
