// The commands with SCIENCE_STORE=kafka against a real Kafka, run as a user runs them: `fink ingest`
// and `fink simulate` write the science log, `fink db stats` reports it and `fink db prune` sets its
// retention. What the log holds is read back by a read_committed reader and by kcat.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { Survey } from '../../src/alert/survey.ts';
import { encodeContainer } from '../../src/avro/container.ts';
import { parseAvroType } from '../../src/avro/schema.ts';
import { loadConfig } from '../../src/config/config.ts';
import { kafkaClientOptions, type KafkaConnection } from '../../src/kafka/client-options.ts';
import { readTopic } from '../../src/kafka/topic-reader.ts';
import { readAlertFile, SchemaCache } from '../../src/sciencedb/decode.ts';
import { expandPaths } from '../../src/sciencedb/ingest.ts';
import { createSimulation } from '../../src/sciencedb/simulate.ts';
import { decodeLogAlert, schemaTopic, scienceTopic, type LoggedAlert } from '../../src/sciencedb/log-format.ts';
import type { LogStats } from '../../src/sciencedb/log-stats.ts';
import type { NewAlert } from '../../src/sciencedb/store.ts';
import { runFink, testEnv } from '../helpers/cli.ts';
import { FINK_DATA, haveRealData, LSST_SAMPLES, ZTF_DATA } from '../helpers/data.ts';
import { freePortPair, withTestCluster, type TestCluster } from '../helpers/kafka.ts';
import { haveKcat, kcatReadCommitted } from '../helpers/readers.ts';
import { tempDir } from '../helpers/temp.ts';

const PARTITIONS = 4;

let cluster: TestCluster;
let connection: KafkaConnection;

function logEnv(prefix: string): Record<string, string> {
  return { ...cluster.env, SCIENCE_STORE: 'kafka', SCIENCE_TOPIC_PREFIX: prefix, SCIENCE_PARTITIONS: String(PARTITIONS), SCIENCE_DB_PATH: join(tempDir('log-ingest-unused'), 'db') };
}

async function logged(prefix: string, survey: Survey): Promise<LoggedAlert[]> {
  const out: LoggedAlert[] = [];
  const topic = scienceTopic(prefix, survey);
  for await (const m of readTopic(connection, topic, { partitionMaxBytes: 32 << 20 })) out.push(decodeLogAlert(survey, m.value!, `${topic}[${m.partition}]@${m.offset}`));
  return out;
}

function alertsOf(files: readonly string[]): NewAlert[] {
  const schemas = new SchemaCache();
  return files.flatMap((file) => [...readAlertFile(file, schemas)]);
}

/**
 * Every alert once in the log, with its datum and added values byte for byte. An alert is its
 * survey, id and writer schema: the three Rubin samples are one alert in three schema versions.
 */
function assertExactlyOnce(read: readonly LoggedAlert[], wanted: readonly NewAlert[], what: string): void {
  assert.equal(read.length, wanted.length, `${what}: as many records as alerts`);
  const byId = new Map(read.map((a) => [`${a.survey}:${a.alertId}:${a.schemaId}`, a]));
  assert.equal(byId.size, read.length, `${what}: no alert twice`);
  for (const alert of wanted) {
    const got = byId.get(`${alert.survey}:${alert.alertId}:${alert.schemaId}`);
    assert.ok(got !== undefined, `${what}: ${alert.survey} alert ${alert.alertId} is in the log`);
    assert.ok(Buffer.from(got.datum).equals(Buffer.from(alert.datum)), `${alert.survey} ${alert.alertId}: datum byte for byte`);
    assert.equal(got.schemaId, alert.schemaId);
    assert.equal(got.added === null ? null : Buffer.from(got.added.datum).toString('hex'), alert.added === null ? null : Buffer.from(alert.added.datum).toString('hex'));
  }
}

withTestCluster((started) => {
  cluster = started;
  connection = kafkaClientOptions(loadConfig({ env: testEnv(cluster.env) }));
});

describe('fink ingest and fink simulate with SCIENCE_STORE=kafka', { timeout: 900_000 }, () => {
  test("the real ZTF, Fink and Rubin files: every alert once in its survey's topic, byte for byte; fink db stats says what was written", async (t) => {
    if (!haveRealData(t) || !haveKcat(t)) return;
    const files = [...expandPaths([ZTF_DATA, FINK_DATA]).files, ...LSST_SAMPLES];
    const wanted = alertsOf(files);
    const started = Date.now();
    const run = await runFink(['ingest', ZTF_DATA, FINK_DATA, ...LSST_SAMPLES], logEnv('real_'));
    assert.equal(run.status, 0, run.output);
    assert.match(run.output, new RegExp(`ingested ${wanted.length} alerts from ${files.length} files .*: ${wanted.length} written`));
    assert.match(run.output, /into the science log \(topics real_<survey>\) at 127\.0\.0\.1:/);
    assert.match(run.output, new RegExp(`fink ingest: created topic real_ztf: ${PARTITIONS} partitions, replication 1, .*max\\.message\\.bytes=${10485760 + 65536} retention\\.ms=604800000 retention\\.bytes=-1`));
    assert.match(run.output, /fink ingest: created topic real_schemas: 1 partitions, replication 1, cleanup\.policy=compact/);
    const ztf = wanted.filter((a) => a.survey === 'ztf');
    const lsst = wanted.filter((a) => a.survey === 'lsst');
    assert.ok(ztf.length > 0 && lsst.length > 0);
    assertExactlyOnce(await logged('real_', 'ztf'), ztf, 'ztf');
    assertExactlyOnce(await logged('real_', 'lsst'), lsst, 'lsst');
    assert.equal(kcatReadCommitted(cluster.bootstrap, 'real_ztf', '%k').length, ztf.length, 'kcat at read_committed counts every ZTF alert once');

    const stats = await runFink(['db', 'stats', '--json', '--exact'], logEnv('real_'));
    assert.equal(stats.status, 0, stats.output);
    const json = JSON.parse(stats.output) as LogStats;
    for (const [survey, alerts] of [['ztf', ztf], ['lsst', lsst]] as const) {
      const s = json.surveys[survey]!;
      assert.equal(s.topic, `real_${survey}`);
      assert.equal(s.partitions, PARTITIONS);
      assert.equal(s.replication, 1);
      assert.equal(s.records, alerts.length, `${survey}: committed alerts counted exactly`);
      // One transaction per file: at most a marker per partition per file besides the alerts.
      assert.ok(s.offsets >= alerts.length && s.offsets <= alerts.length + PARTITIONS * files.length, `${survey}: ${s.offsets} offsets for ${alerts.length} alerts`);
      assert.ok(s.bytes > 0, `${survey}: bytes on the leaders`);
      assert.ok(s.oldest !== null && s.newest !== null && started <= s.oldest && s.oldest <= s.newest && s.newest <= Date.now(), `${survey}: oldest ${s.oldest}, newest ${s.newest}`);
    }
    const schemaIds = new Set(wanted.flatMap((a) => [a.schemaId, ...(a.added === null ? [] : [a.added.schemaId])]));
    assert.equal(json.schemas?.topic, schemaTopic('real_'));
    assert.equal(json.schemas?.records, schemaIds.size, 'each schema written once by the one ingest');
    const text = await runFink(['db', 'stats'], logEnv('real_'));
    assert.match(text.output, new RegExp(`ztf  real_ztf: ${PARTITIONS} partitions x 1 replica`));
    assert.match(text.output, /MB on the leaders; oldest 20\d\d-.*Z, newest 20\d\d-.*Z/);
  });

  test('a bad file among good ones is named with its reason, none of its alerts is written, the others go in; exit 1', async (t) => {
    if (!haveRealData(t)) return;
    const inputs = tempDir('log-bad');
    const multi = readFileSync(join(FINK_DATA, 'avro_multi_alerts.avro'));
    writeFileSync(join(inputs, 'truncated.avro'), multi.subarray(0, Math.floor(multi.length * 0.7)));
    writeFileSync(join(inputs, 'notes.avro'), 'this is not an Avro file\n');
    const schema = { type: 'record', name: 'alert', fields: [{ name: 'objectId', type: ['string', 'null'] }, { name: 'candid', type: ['long', 'null'] }, { name: 'candidate', type: { type: 'record', name: 'c', fields: [{ name: 'jd', type: 'double' }] } }] };
    const type = parseAvroType(schema);
    writeFileSync(join(inputs, 'nocandid.avro'), encodeContainer(schema, [type.toBuffer({ objectId: 'ZTF1', candid: 1n, candidate: { jd: 2459000.5 } }), type.toBuffer({ objectId: 'ZTF2', candid: null, candidate: { jd: 2459000.5 } })]));
    const good = expandPaths([ZTF_DATA]).files;
    const run = await runFink(['ingest', inputs, ...good, LSST_SAMPLES[1]!], logEnv('bad_'));
    assert.equal(run.status, 1, run.output);
    assert.match(run.output, /truncated\.avro: truncated/);
    assert.match(run.output, /notes\.avro: not an Avro container file/);
    assert.match(run.output, /nocandid\.avro: alert #2: the alert has no candid/);
    assert.match(run.output, /3 files not ingested/);
    const ztf = alertsOf(good);
    assertExactlyOnce(await logged('bad_', 'ztf'), ztf, 'the good ZTF files, and nothing of the bad ones');
    assertExactlyOnce(await logged('bad_', 'lsst'), alertsOf([LSST_SAMPLES[1]!]), 'the Rubin file');
  });

  test('a file past DISTRIBUTION_BATCH_BYTES is checked whole, then written in several transactions: every alert once', async () => {
    const sim = createSimulation({ profile: 'lsst', seed: 9, night: '20261204' });
    const datums = Array.from({ length: 20 }, () => {
      const a = sim.next();
      return Buffer.concat([a.datum, a.added!.datum]);
    });
    const file = join(tempDir('log-large'), 'visit.avro');
    writeFileSync(file, encodeContainer(sim.fullSchema, datums));
    assert.ok(readFileSync(file).length > 2 << 20, 'more than two transactions of 1 MB');
    const env = { ...logEnv('large_'), DISTRIBUTION_BATCH_BYTES: String(1 << 20) };
    const run = await runFink(['ingest', file], env);
    assert.equal(run.status, 0, run.output);
    assertExactlyOnce(await logged('large_', 'lsst'), alertsOf([file]), 'the large file');
    const stats = JSON.parse((await runFink(['db', 'stats', '--json'], env)).output) as LogStats;
    assert.ok(stats.surveys.lsst!.offsets - 20 > PARTITIONS, 'more than one transaction (each leaves a marker on each partition it wrote)');
  });

  test('a folder of one-alert files goes in one transaction, not one a file, each file whole', async () => {
    const out = tempDir('log-small-files');
    const made = await runFink(['simulate', '--count', '300', '--profile', 'ztf-light', '--seed', '8', '--out', out], logEnv('small_'));
    assert.equal(made.status, 0, made.output);
    const run = await runFink(['ingest', out], logEnv('small_'));
    assert.equal(run.status, 0, run.output);
    assertExactlyOnce(await logged('small_', 'ztf'), alertsOf(expandPaths([out]).files), 'the one-alert files');
    const stats = JSON.parse((await runFink(['db', 'stats', '--json'], logEnv('small_'))).output) as LogStats;
    assert.ok(stats.surveys.ztf!.offsets - 300 <= PARTITIONS, `${stats.surveys.ztf!.offsets - 300} markers: one transaction`);
  });

  test('fink simulate --count N writes N records, in transactions bounded by DISTRIBUTION_BATCH_BYTES', async () => {
    const env = { ...logEnv('sim_'), DISTRIBUTION_BATCH_BYTES: String(1 << 20) };
    const ztf = await runFink(['simulate', '--count', '700', '--profile', 'ztf-light', '--seed', '5'], env);
    assert.equal(ztf.status, 0, ztf.output);
    assert.match(ztf.output, /simulated 700 ztf-light alerts .*: 700 written/);
    const lsst = await runFink(['simulate', '--count', '25', '--survey', 'lsst', '--seed', '6'], env);
    assert.equal(lsst.status, 0, lsst.output);
    const zread = await logged('sim_', 'ztf');
    assert.equal(zread.length, 700);
    assert.equal(new Set(zread.map((a) => a.alertId)).size, 700);
    assert.equal((await logged('sim_', 'lsst')).length, 25);
    const stats = JSON.parse((await runFink(['db', 'stats', '--json'], env)).output) as LogStats;
    // About 4 MB of Rubin alerts in 1 MB transactions: several transactions, each a marker per partition it wrote.
    const markers = stats.surveys.lsst!.offsets - 25;
    assert.ok(markers > PARTITIONS && markers <= 25, `${markers} transaction markers among the Rubin alerts' offsets`);
  });
});

describe('fink db prune with SCIENCE_STORE=kafka', { timeout: 600_000 }, () => {
  test('without --older-than it prints the retention; with it, it sets retention.ms of the survey topics and says so', async () => {
    const env = { ...logEnv('prune_'), SCIENCE_RETENTION_MS: '604800000' };
    assert.equal((await runFink(['simulate', '--count', '3', '--profile', 'ztf-light'], env)).status, 0);
    const shown = await runFink(['db', 'prune'], env);
    assert.equal(shown.status, 0, shown.output);
    assert.match(shown.output, /prune_ztf: retention\.ms 604800000 \(7 days\), retention\.bytes no limit/);
    const dry = await runFink(['db', 'prune', '--older-than', '3', '--dry-run'], env);
    assert.match(dry.output, /would set prune_ztf retention\.ms 604800000 -> 259200000 \(3 days\)/);
    assert.match((await runFink(['db', 'prune'], env)).output, /retention\.ms 604800000/, 'a dry run changes nothing');
    const set = await runFink(['db', 'prune', '--older-than', '3'], env);
    assert.equal(set.status, 0, set.output);
    assert.match(set.output, /set prune_ztf retention\.ms 604800000 -> 259200000 \(3 days\)/);
    assert.match((await runFink(['db', 'prune'], env)).output, /prune_ztf: retention\.ms 259200000 \(3 days\)/);
  });
});

describe('a Kafka that does not answer', { timeout: 600_000 }, () => {
  test('fink ingest, fink db stats and fink db prune name the servers and exit non-zero', async (t) => {
    if (!haveRealData(t)) return;
    const port = await freePortPair(1);
    const env = { SCIENCE_STORE: 'kafka', DISTRIBUTION_SERVERS: `127.0.0.1:${port}`, SCIENCE_DB_PATH: join(tempDir('log-unreachable'), 'db') };
    mkdirSync(env.SCIENCE_DB_PATH, { recursive: true });
    for (const args of [['ingest', ZTF_DATA], ['db', 'stats'], ['db', 'prune']]) {
      const run = await runFink(args, env);
      assert.equal(run.status, 1, `fink ${args.join(' ')}: ${run.output}`);
      assert.match(run.output, new RegExp(`Kafka does not answer at 127\\.0\\.0\\.1:${port}`), `fink ${args.join(' ')}`);
    }
  });
});
