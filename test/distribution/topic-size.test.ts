// Topics sized for Rubin's volumes: what the service creates carries the configured message size,
// retention time and bytes and min ISR; a 5 MB alert goes through a real broker; one past the topic's
// limit is still refused by the oversize rule; without a configured retention.bytes, the free
// space decides it; fink_kafka status shows the disk the cluster takes and what is left.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ConfigResourceTypes } from '@platformatic/kafka';
import { encodeContainer } from '../../src/avro/container.ts';
import { parseAvroType, type RecordSchema } from '../../src/avro/schema.ts';
import { kafkaClientOptions, withAdmin } from '../../src/kafka/client-options.ts';
import { FREE_SPACE_SHARE } from '../../src/distribution/settings.ts';
import type { Config } from '../../src/config/config.ts';
import { runCli } from '../helpers/cli.ts';
import { haveRealData } from '../helpers/data.ts';
import { distributionSetup, readAll } from '../helpers/distribution.ts';
import { withTestCluster, type TestCluster } from '../helpers/kafka.ts';
import { tempDir } from '../helpers/temp.ts';
import { realMessages } from '../helpers/wire.ts';

const CHECKED = ['max.message.bytes', 'retention.ms', 'retention.bytes', 'segment.bytes', 'min.insync.replicas'];

async function topicConfigs(config: Config, topic: string): Promise<Record<string, string>> {
  return withAdmin(kafkaClientOptions(config, 'admin'), async (admin) => {
    const [described] = await admin.describeConfigs({ resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: topic, configurationKeys: CHECKED }] });
    return Object.fromEntries(described!.configs.map((c) => [c.name, String(c.value)]));
  });
}

/** A real ZTF alert whose science cutout is `bytes` of random data (incompressible), as a datum of its schema. */
function bigAlert(bytes: number, candid: bigint): { schema: RecordSchema; datum: Buffer } {
  const real = realMessages()[0]!;
  const schema = JSON.parse(real.key.toString()) as RecordSchema;
  const type = parseAvroType(schema);
  const alert = type.fromBuffer(real.value) as { candid: bigint; candidate: { candid: bigint }; cutoutScience: { stampData: Buffer } };
  alert.candid = candid;
  alert.candidate.candid = candid;
  alert.cutoutScience.stampData = randomBytes(bytes);
  return { schema, datum: type.toBuffer(alert) };
}

describe('topics sized for Rubin volumes', { timeout: 400_000 }, () => {
  let cluster: TestCluster;
  withTestCluster((started) => {
    cluster = started;
  });

  test('configured size and retention on the created topics; a 5 MB alert goes through; a 9 MB one is over the 8 MiB topic limit and skipped', async (t) => {
    if (!haveRealData(t)) return;
    const setup = distributionSetup(cluster, {
      DISTRIBUTION_TOPICS: 'light', DISTRIBUTION_OVERSIZE: 'skip',
      DISTRIBUTION_MAX_MESSAGE_BYTES: String(8 * 1024 * 1024), DISTRIBUTION_RETENTION_HOURS: '48', DISTRIBUTION_RETENTION_BYTES: String(256 * 1024 * 1024),
    });
    const five = bigAlert(5_000_000, 1_000_000_000_000_000_001n);
    const nine = bigAlert(9_000_000, 1_000_000_000_000_000_002n);
    const file = join(tempDir('big-alerts'), 'big.avro');
    writeFileSync(file, encodeContainer(five.schema, [five.datum, nine.datum]));
    const ingest = runCli('fink', ['ingest', file], setup.env);
    assert.equal(ingest.status, 0, ingest.stderr);
    const run = runCli('fink', ['start', 'distribution', '--until-caught-up'], setup.env);
    assert.equal(run.status, 0, run.stderr);

    for (const topic of ['distribution_test', 'fink_light_ztf']) {
      assert.deepEqual(await topicConfigs(setup.config, topic), {
        'max.message.bytes': String(8 * 1024 * 1024), 'retention.ms': String(48 * 3_600_000),
        'retention.bytes': String(256 * 1024 * 1024), 'segment.bytes': String(64 * 1024 * 1024), 'min.insync.replicas': '1',
      }, topic);
    }
    const messages = await readAll(setup.config, 'distribution_test');
    assert.equal(messages.length, 1, 'the 5 MB alert, alone');
    assert.ok(messages[0]!.value!.equals(five.datum), 'the 5 MB alert, byte for byte');
    const skipped = readFileSync(join(setup.stateDir, 'skipped.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { candid: string; topic: string; bytes: number; limit: number });
    assert.deepEqual(skipped.map((s) => [s.candid, s.topic, s.limit]), [['1000000000000000002', 'distribution_test', 8 * 1024 * 1024]]);
    // Without cutouts, both fit the light topic.
    assert.equal((await readAll(setup.config, 'fink_light_ztf')).length, 2);
  });

  test('without DISTRIBUTION_RETENTION_BYTES, every partition replica takes its part of half the free space of KAFKA_STATE_DIR', async () => {
    const setup = distributionSetup(cluster, { DISTRIBUTION_TOPICS: 'sn_candidates,microlensing', DISTRIBUTION_PARTITIONS: '4', DISTRIBUTION_TEST_TOPIC: 'auto_retention_test' });
    const run = runCli('fink', ['start', 'distribution', '--until-caught-up'], setup.env);
    assert.equal(run.status, 0, run.stderr);
    const df = spawnSync('df', ['--output=avail', '-B1', cluster.stateDir], { encoding: 'utf8' });
    assert.equal(df.status, 0, df.stderr);
    const free = Number(df.stdout.trim().split('\n')[1]);
    const configs = await topicConfigs(setup.config, 'auto_retention_test');
    const retention = Number(configs['retention.bytes']);
    const segment = Number(configs['segment.bytes']);
    // 3 topics of 4 partitions, one replica each: what they may hold at most, with a segment each
    // beyond the retention, is half the free space (the disk is shared: 10% either way).
    const held = 3 * 4 * (retention + segment);
    assert.ok(held <= free * FREE_SPACE_SHARE * 1.1 && held >= free * FREE_SPACE_SHARE * 0.9, `3×4×(${retention} + ${segment}) against ${FREE_SPACE_SHARE} × ${free} free`);
    assert.equal(configs['max.message.bytes'], '10485760', 'the default, as Rubin');
    assert.equal(configs['retention.ms'], String(168 * 3_600_000), 'the default, a week');
  });

  test('fink_kafka status: the disk its state folder takes and the free space of its file system', () => {
    const status = runCli('fink_kafka', ['status'], cluster.env);
    assert.equal(status.status, 0, status.stderr);
    const line = status.stdout.split('\n').find((l) => l.startsWith('disk: '));
    assert.ok(line !== undefined, status.stdout);
    const m = /^disk: ([\d.]+) (B|kB|MB|GB|TB) used by (.+), ([\d.]+) (B|kB|MB|GB|TB) free of ([\d.]+) (B|kB|MB|GB|TB) on its file system$/.exec(line);
    assert.ok(m !== null, line);
    const unit = { B: 1, kB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12 } as const;
    const bytes = (value: string, u: string) => Number(value) * unit[u as keyof typeof unit];
    assert.equal(m[3], cluster.stateDir);
    const du = spawnSync('du', ['-s', '-B1', cluster.stateDir], { encoding: 'utf8' });
    const used = Number(du.stdout.split('\t')[0]);
    // The broker writes as it runs, and the figures are rounded to two or three digits.
    assert.ok(Math.abs(bytes(m[1]!, m[2]!) - used) <= used * 0.25, `${m[1]} ${m[2]} used, du says ${used}`);
    const df = spawnSync('df', ['--output=avail', '-B1', cluster.stateDir], { encoding: 'utf8' });
    const free = Number(df.stdout.trim().split('\n')[1]);
    assert.ok(Math.abs(bytes(m[4]!, m[5]!) - free) <= free * 0.1, `${m[4]} ${m[5]} free, df says ${free}`);
  });
});
