// The science log's writer against a real Kafka: the topics it creates, where each alert goes, the
// schemas before the alerts, and what an independent read_committed reader (kcat) and the project's
// own reader find: every committed alert once, its datum byte for byte, nothing of an aborted write.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigResourceTypes } from '@platformatic/kafka';
import type { Survey } from '../../src/alert/survey.ts';
import { loadConfig } from '../../src/config/config.ts';
import { withAdmin } from '../../src/kafka/client-options.ts';
import { partitionOf } from '../../src/kafka/partitioner.ts';
import { readTopic, type ConsumedMessage } from '../../src/kafka/topic-reader.ts';
import { describeTopic } from '../../src/kafka/topics.ts';
import type { Message } from '../../src/kafka/transactional-session.ts';
import { decodeLogAlert, encodeLogAlert, schemaTopic, scienceTopic } from '../../src/sciencedb/log-format.ts';
import { LOG_ENVELOPE_BYTES, scienceLogSettings, type ScienceLogSettings } from '../../src/sciencedb/log-settings.ts';
import { planWaves, WAVE_BYTES } from '../../src/kafka/waves.ts';
import { ScienceLogWriter } from '../../src/sciencedb/log-writer.ts';
import { logStats } from '../../src/sciencedb/log-stats.ts';
import { readAlertFile, SchemaCache } from '../../src/sciencedb/decode.ts';
import { expandPaths } from '../../src/sciencedb/ingest.ts';
import { createSimulation } from '../../src/sciencedb/simulate.ts';
import type { NewAlert } from '../../src/sciencedb/store.ts';
import { testEnv } from '../helpers/cli.ts';
import { FINK_DATA, LSST_SAMPLES, realDataPresent, ZTF_DATA } from '../helpers/data.ts';
import { withTestCluster, type TestCluster } from '../helpers/kafka.ts';
import { haveKcat, kcatReadCommitted } from '../helpers/readers.ts';
import { waitFor } from '../helpers/wait.ts';
import { portIsFree } from '../../src/cluster/processes.ts';

const KEYS = { SCIENCE_PARTITIONS: '5', SCIENCE_RETENTION_MS: '123456789', SCIENCE_RETENTION_BYTES: '536870912', DISTRIBUTION_MAX_MESSAGE_BYTES: '10485760' };

function settingsOf(env: Record<string, string>, prefix: string): ScienceLogSettings {
  return scienceLogSettings(loadConfig({ env: testEnv({ ...env, ...KEYS, SCIENCE_TOPIC_PREFIX: prefix }) }));
}

function simulated(survey: Survey, count: number, seed: number): NewAlert[] {
  const sim = createSimulation({ profile: survey === 'ztf' ? 'ztf' : 'lsst', seed, night: '20261204' });
  return Array.from({ length: count }, () => sim.next());
}

async function readAll(settings: ScienceLogSettings, topic: string): Promise<ConsumedMessage[]> {
  const out: ConsumedMessage[] = [];
  for await (const m of readTopic(settings.connection, topic, { partitionMaxBytes: 32 << 20 })) out.push(m);
  return out;
}

async function topicConfigs(settings: ScienceLogSettings, topic: string): Promise<Map<string, string>> {
  return withAdmin(settings.connection, async (admin) => {
    const [described] = await admin.describeConfigs({ resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: topic, configurationKeys: [] }] });
    return new Map(described!.configs.map((c) => [c.name, String(c.value)]));
  });
}

describe('what the writer adds to an alert', () => {
  test('the envelope of a real ZTF, Fink or Rubin alert is under 1 KB, far inside the 64 KiB that max.message.bytes adds for it', (t) => {
    if (!realDataPresent()) return t.skip('no real data in ../shared/data');
    const schemas = new SchemaCache();
    let largest = 0;
    for (const file of [...expandPaths([ZTF_DATA, FINK_DATA]).files, ...LSST_SAMPLES]) {
      for (const alert of readAlertFile(file, schemas)) {
        const wire = alert.datum.length + (alert.added?.datum.length ?? 0);
        largest = Math.max(largest, encodeLogAlert(alert, Date.now()).length + alert.objectKey.length - wire);
      }
    }
    assert.ok(largest > 0 && largest < 1024, `envelope and key: ${largest} bytes`);
    assert.ok(largest * 32 < LOG_ENVELOPE_BYTES);
  });

  test('waves keep each partition under the budget and in order, a message larger than the budget alone', () => {
    const m = (partition: number, bytes: number, n: number): Message => ({ topic: 't', partition, value: Buffer.alloc(bytes, n) });
    const messages = [m(0, 400_000, 1), m(1, 10, 2), m(0, 400_000, 3), m(0, 400_000, 4), m(0, 2_000_000, 5), m(1, 10, 6), m(0, 10, 7)];
    const waves = planWaves(messages, () => 10_000_000);
    for (const wave of waves) {
      for (const p of [0, 1]) {
        const inWave = wave.filter((x) => x.partition === p);
        const bytes = inWave.reduce((s, x) => s + x.value!.length, 0);
        assert.ok(inWave.length <= 1 || bytes <= WAVE_BYTES, `partition ${p}: ${bytes} bytes in one wave`);
      }
    }
    assert.deepEqual(waves.flat().filter((x) => x.partition === 0).map((x) => x.value![0]), [1, 3, 4, 5, 7]);
    assert.deepEqual(waves.map((w) => w.filter((x) => x.partition === 0).map((x) => x.value![0])), [[1, 3], [4], [5], [7]]);
    assert.equal(planWaves(messages, () => 300_000).flat().length, messages.length);
  });
});

describe('the science log settings', () => {
  test('survey topics: SCIENCE_PARTITIONS, the retention keys, a segment a quarter of a byte retention; the schemas topic compacted, one partition', () => {
    const settings = scienceLogSettings(loadConfig({ env: testEnv({ SCIENCE_PARTITIONS: '7', SCIENCE_RETENTION_BYTES: '400000000', DISTRIBUTION_REPLICATION: '3', DISTRIBUTION_MIN_ISR: '2' }) }));
    assert.equal(settings.prefix, 'fink_science_');
    assert.equal(settings.scienceTopic.partitions, 7);
    assert.equal(settings.scienceTopic.replicationFactor, 3);
    assert.deepEqual(settings.scienceTopic.configs, { 'min.insync.replicas': '2', 'max.message.bytes': String(10485760 + LOG_ENVELOPE_BYTES), 'retention.ms': '604800000', 'retention.bytes': '400000000', 'segment.bytes': '100000000' });
    assert.deepEqual(settings.schemaTopic, { partitions: 1, replicationFactor: 3, configs: { 'cleanup.policy': 'compact', 'min.insync.replicas': '2', 'max.message.bytes': String(10485760 + LOG_ENVELOPE_BYTES) } });
    assert.equal(settings.transactionBytes, 16777216);
    const unbounded = scienceLogSettings(loadConfig({ env: testEnv({}) }));
    assert.equal(unbounded.scienceTopic.configs!['retention.bytes'], '-1');
    assert.equal(unbounded.scienceTopic.configs!['segment.bytes'], undefined, "no byte retention: Kafka's own segments");
  });

  test('DISTRIBUTION_MIN_ISR above DISTRIBUTION_REPLICATION is refused, naming both', () => {
    assert.throws(() => scienceLogSettings(loadConfig({ env: testEnv({ DISTRIBUTION_REPLICATION: '1', DISTRIBUTION_MIN_ISR: '2' }) })), /DISTRIBUTION_MIN_ISR=2 is more than DISTRIBUTION_REPLICATION=1/);
  });
});

describe('the science log writer on a real Kafka', { timeout: 900_000 }, () => {
  let cluster: TestCluster;
  withTestCluster((started) => {
    cluster = started;
  });

  test('the first write creates the survey topic and the compacted schemas topic with the partitions and configurations asked', async () => {
    const settings = settingsOf(cluster.env, 'created_');
    const writer = new ScienceLogWriter(settings, { role: 'test' });
    try {
      assert.equal(await writer.write(simulated('ztf', 3, 1)), 3);
    } finally {
      await writer.close();
    }
    const science = await describeTopic(settings.connection, scienceTopic('created_', 'ztf'));
    assert.equal(science?.partitions.length, 5);
    assert.equal(await describeTopic(settings.connection, scienceTopic('created_', 'lsst')), undefined, 'no topic for a survey not written');
    const configs = await topicConfigs(settings, 'created_ztf');
    assert.equal(configs.get('retention.ms'), '123456789');
    assert.equal(configs.get('retention.bytes'), '536870912');
    assert.equal(configs.get('max.message.bytes'), String(10485760 + LOG_ENVELOPE_BYTES));
    assert.equal(configs.get('cleanup.policy'), 'delete');
    const schemas = await describeTopic(settings.connection, schemaTopic('created_'));
    assert.equal(schemas?.partitions.length, 1);
    assert.equal((await topicConfigs(settings, 'created_schemas')).get('cleanup.policy'), 'compact');
  });

  test('every alert is at the partition of its object, once, and comes back byte for byte to kcat and to a read_committed reader', async (t) => {
    if (!haveKcat(t)) return;
    const settings = settingsOf(cluster.env, 'placed_');
    const ztf = simulated('ztf', 40, 2);
    const lsst = simulated('lsst', 30, 3);
    const writer = new ScienceLogWriter(settings, { role: 'test' });
    try {
      await writer.write([...ztf.slice(0, 20), ...lsst.slice(0, 10)]);
      await writer.write([...ztf.slice(20), ...lsst.slice(10)]);
    } finally {
      await writer.close();
    }
    for (const [survey, alerts] of [['ztf', ztf], ['lsst', lsst]] as const) {
      const topic = scienceTopic('placed_', survey);
      const independent = kcatReadCommitted(cluster.bootstrap, topic, '%p %k %S').sort();
      const wanted = alerts.map((a) => {
        const value = encodeLogAlert(a, Date.now());
        return `${partitionOf(a.objectKey, 5)} ${a.objectKey} ${value.length}`;
      });
      assert.deepEqual(independent, wanted.sort(), `${topic}: kcat sees each alert once, at its object's partition, with its size`);
      const read = await readAll(settings, topic);
      assert.equal(read.length, alerts.length);
      const byId = new Map(alerts.map((a) => [a.alertId, a]));
      for (const m of read) {
        const back = decodeLogAlert(survey, m.value!, `${topic}[${m.partition}]@${m.offset}`);
        const sent = byId.get(back.alertId)!;
        byId.delete(back.alertId);
        assert.equal(m.partition, partitionOf(sent.objectKey, 5));
        assert.equal(m.key!.toString(), sent.objectKey);
        assert.ok(Buffer.from(back.datum).equals(Buffer.from(sent.datum)), `${survey} ${back.alertId}: datum byte for byte`);
        assert.ok(Buffer.from(back.added!.datum).equals(Buffer.from(sent.added!.datum)), `${survey} ${back.alertId}: added values byte for byte`);
        assert.equal(back.schemaId, sent.schemaId);
        assert.equal(Number(m.timestamp), back.ingestedMs, 'the record timestamp is the time it was written');
        assert.equal(m.transactional, true);
      }
      assert.equal(byId.size, 0, 'every alert read back');
    }
  });

  test('the schemas an alert names are in the schemas topic, written by a writer once and no later than the first alert naming them', async () => {
    const settings = settingsOf(cluster.env, 'schemas_');
    const alerts = [...simulated('ztf', 6, 4), ...simulated('lsst', 4, 5)];
    const writer = new ScienceLogWriter(settings, { role: 'test' });
    try {
      await writer.write(alerts.slice(0, 5));
      await writer.write(alerts.slice(5));
      await writer.write(alerts);
    } finally {
      await writer.close();
    }
    const schemas = await readAll(settings, schemaTopic('schemas_'));
    const named = new Map<string, string>();
    for (const a of alerts) {
      named.set(a.schemaId, a.schemaJson);
      named.set(a.added!.schemaId, a.added!.schemaJson);
    }
    assert.equal(named.size, 4);
    assert.deepEqual(schemas.map((m) => m.key!.toString()).sort(), [...named.keys()].sort(), 'each schema once');
    for (const m of schemas) assert.equal(m.value!.toString(), named.get(m.key!.toString()), 'value: the schema JSON');
    const firstAlert = new Map<string, bigint>();
    for (const survey of ['ztf', 'lsst'] as const) {
      for (const m of await readAll(settings, scienceTopic('schemas_', survey))) {
        const a = decodeLogAlert(survey, m.value!, 'test');
        for (const id of [a.schemaId, a.added!.schemaId]) if (!firstAlert.has(id) || firstAlert.get(id)! > m.timestamp) firstAlert.set(id, m.timestamp);
      }
    }
    for (const m of schemas) assert.ok(m.timestamp <= firstAlert.get(m.key!.toString())!, `schema ${m.key} written before the alerts naming it`);
  });

  test('an aborted write leaves nothing visible, its schemas included; the next write carries its schemas again', async (t) => {
    if (!haveKcat(t)) return;
    const settings = settingsOf(cluster.env, 'aborted_');
    const lost = simulated('ztf', 10, 6);
    const kept = simulated('ztf', 7, 7);
    const writer = new ScienceLogWriter(settings, { role: 'test' });
    try {
      await writer.send(lost);
      await writer.abort();
      await writer.write(kept);
    } finally {
      await writer.close();
    }
    const ids = kcatReadCommitted(cluster.bootstrap, scienceTopic('aborted_', 'ztf'), '%k').sort();
    assert.deepEqual(ids, kept.map((a) => a.objectKey).sort());
    const read = await readAll(settings, scienceTopic('aborted_', 'ztf'));
    assert.deepEqual(read.map((m) => decodeLogAlert('ztf', m.value!, 'test').alertId).sort(), kept.map((a) => a.alertId).sort());
    assert.equal((await readAll(settings, schemaTopic('aborted_'))).length, 2, 'the alert schema and the added values schema, committed with the second write');
  });

  test('extra messages commit in the same transaction as the alerts', async () => {
    const settings = settingsOf(cluster.env, 'extra_');
    const writer = new ScienceLogWriter(settings, { role: 'test' });
    const position = (n: number): Message => ({ topic: schemaTopic('extra_'), partition: 0, key: Buffer.from('position'), value: Buffer.from(String(n)) });
    try {
      await writer.write(simulated('ztf', 2, 8), [position(1)]);
      await writer.send(simulated('ztf', 2, 9), [position(2)]);
      await writer.abort();
    } finally {
      await writer.close();
    }
    const values = (await readAll(settings, schemaTopic('extra_'))).filter((m) => m.key!.toString() === 'position').map((m) => m.value!.toString());
    assert.deepEqual(values, ['1']);
    assert.equal((await readAll(settings, scienceTopic('extra_', 'ztf'))).length, 2);
  });

  test('a writer whose cluster answered goes on through its broker killed and started again: the write waits, then every alert is there', async () => {
    const settings = settingsOf(cluster.env, 'outage_');
    const first = simulated('ztf', 5, 21);
    const second = simulated('ztf', 6, 22);
    const retries: string[] = [];
    const writer = new ScienceLogWriter(settings, { role: 'test', onRetry: (reason) => retries.push(reason) });
    try {
      assert.equal(await writer.write(first), 5);
      await cluster.killBroker(0);
      const writing = writer.write(second);
      // Observed below; without this, a rejection before the broker is back would be unhandled meanwhile.
      writing.catch(() => {});
      await waitFor('the write asked again while the broker is away', () => retries.length > 0, { timeoutMs: 300_000 });
      const [host, port] = cluster.bootstrap.split(':') as [string, string];
      // The killed broker's listener is released as its last threads end, a moment after the process.
      await waitFor("the killed broker's port free", () => portIsFree(host, Number(port)), { timeoutMs: 120_000 });
      await cluster.revive();
      assert.equal(await writing, 6);
    } finally {
      await writer.close();
    }
    assert.ok(retries.length > 0, 'the write was asked again while the broker was away');
    const ids = new Set((await readAll(settings, scienceTopic('outage_', 'ztf'))).map((m) => String(decodeLogAlert('ztf', m.value!, 'test').alertId)));
    // A commit whose answer was lost may be in the log twice: the set of alerts is what must hold.
    assert.deepEqual([...ids].sort(), [...first, ...second].map((a) => String(a.alertId)).sort());
  });

  test('two writers at once on one host never fence each other', async () => {
    const settings = settingsOf(cluster.env, 'together_');
    const a = new ScienceLogWriter(settings, { role: 'test' });
    const b = new ScienceLogWriter(settings, { role: 'test' });
    assert.notEqual(a.transactionalId, b.transactionalId);
    try {
      await a.send(simulated('ztf', 3, 10));
      await b.write(simulated('ztf', 4, 11));
      await a.commit();
      await a.write(simulated('ztf', 5, 12));
    } finally {
      await a.close();
      await b.close();
    }
    assert.equal((await readAll(settings, scienceTopic('together_', 'ztf'))).length, 12);
  });
  test('fink db stats figures: offsets count the markers and an aborted write too; the newest is the last committed record', async () => {
    const settings = settingsOf(cluster.env, 'stats_');
    const writer = new ScienceLogWriter(settings, { role: 'test' });
    const first = simulated('ztf', 6, 13);
    const second = simulated('ztf', 4, 14);
    let committedBy: number;
    try {
      await writer.write(first);
      await writer.write(second);
      committedBy = Date.now();
      await writer.send(simulated('ztf', 5, 15));
      await writer.abort();
    } finally {
      await writer.close();
    }
    const touched = (alerts: NewAlert[]) => new Set(alerts.map((a) => partitionOf(a.objectKey, 5))).size;
    // Two commits and an abort: a marker on every partition each touched, and the aborted records.
    const aborted = simulated('ztf', 5, 15);
    const offsets = 10 + touched(first) + touched(second) + 5 + touched(aborted);
    // The coordinator writes the markers after EndTxn has answered: the figures are read once they are all in.
    let last = '';
    const stats = await waitFor(`the end offsets of stats_ztf to count the ${offsets - 15} markers`, async () => {
      const now = await logStats(settings.connection, 'stats_', { exact: true });
      last = JSON.stringify(now.surveys.ztf);
      return now.surveys.ztf!.offsets >= offsets ? now : undefined;
    }, { detail: () => last });
    const ztf = stats.surveys.ztf!;
    assert.equal(ztf.records, 10);
    assert.equal(ztf.offsets, offsets);
    const read = await readAll(settings, 'stats_ztf');
    const times = read.map((m) => Number(m.timestamp));
    assert.equal(ztf.oldest, Math.min(...times));
    assert.equal(ztf.newest, Math.max(...times));
    assert.ok(ztf.newest! <= committedBy, 'the newest is a committed record, not the aborted write after it');
    assert.equal(stats.surveys.lsst, undefined);
    assert.equal(stats.schemas?.records, 2);
    assert.ok(ztf.bytes > read.reduce((sum, m) => sum + m.value!.length, 0) / 4, `${ztf.bytes} bytes on the leader`);
  });
  test('with a transactional id given, a newer writer of that id fences the older: its transaction never shows', async () => {
    const settings = settingsOf(cluster.env, 'fenced_');
    const older = new ScienceLogWriter(settings, { role: 'test', transactionalId: 'fenced-test-partition-0' });
    const newer = new ScienceLogWriter(settings, { role: 'test', transactionalId: 'fenced-test-partition-0' });
    const kept = simulated('ztf', 4, 17);
    try {
      await older.write(simulated('ztf', 2, 16).slice(0, 1));
      await older.send(simulated('ztf', 3, 18));
      await newer.write(kept);
      await assert.rejects(older.commit(), 'the older writer cannot commit after the newer one started');
      await older.abort();
      await assert.rejects(older.write(simulated('ztf', 2, 19)), /fenced/, 'nor write again');
    } finally {
      await older.close();
      await newer.close();
    }
    const read = (await readAll(settings, 'fenced_ztf')).map((m) => decodeLogAlert('ztf', m.value!, 'test').alertId);
    assert.deepEqual(read.sort(), [simulated('ztf', 1, 16)[0]!.alertId, ...kept.map((a) => a.alertId)].sort());
  });
});
