// The confluent format's choices, without a broker: which topics have it, what its messages hold
// (the object's key, the schema id before the datum, the partition of the fink format), the
// settings it refuses, and the field a registry's refusal points at.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { decodeConfluent } from '../../src/avro/confluent-wire.ts';
import { loadConfig } from '../../src/config/config.ts';
import { buildBatch, type MessageFormat, type TopicTarget } from '../../src/distribution/batch.ts';
import { ConfluentTopics, fieldAt } from '../../src/distribution/confluent-format.ts';
import { distributionSettings } from '../../src/distribution/settings.ts';
import { schemaRegistryUrl } from '../../src/kafka/client-options.ts';
import { WireSchemas, type WireSchema } from '../../src/distribution/wire.ts';
import { silentLogger } from '../../src/log.ts';
import { openReader, type AlertReader, type StoredAlert } from '../../src/sciencedb/reader.ts';
import { simulateIntoDb } from '../../src/sciencedb/simulate.ts';
import type { RecordSchema } from '../../src/avro/schema.ts';
import { runCli, testEnv } from '../helpers/cli.ts';
import { tempDir } from '../helpers/temp.ts';

function target(topic: string, partitions = 6): TopicTarget {
  return { plan: { topic, filter: null, drop: [] }, partitions, maxMessageBytes: 10_000_000 };
}

/** Topics named `c_*` are confluent; ids known for the schemas in `known`, by fingerprint. */
function format(known: Map<string, number>): MessageFormat {
  return { confluent: (topic) => topic.startsWith('c_'), idOf: (_topic, wire: WireSchema) => known.get(wire.fingerprint) };
}

describe('the confluent format in a batch', () => {
  let dir: string;
  let reader: AlertReader;
  let alerts: StoredAlert[];
  let wire: WireSchemas;
  before(() => {
    dir = tempDir('confluent-batch');
    simulateIntoDb(dir, { profile: 'ztf-light', seed: 5, night: '20261120' }, 30);
    reader = openReader(dir);
    alerts = reader.read({}, 30).alerts;
    wire = new WireSchemas((id) => reader.schemaJson(id));
  });
  after(() => {
    reader.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("a confluent topic's message: key the object id, value a zero byte, the schema's id and the stored datum, the partition the fink topic gives the object", () => {
    const schema = wire.forAlert(alerts[0]!);
    const batch = buildBatch(alerts, [target('f_all'), target('c_all')], wire, 'stop', format(new Map([[schema.fingerprint, 4242]])));
    const fink = batch.messages.filter((m) => m.topic === 'f_all');
    const confluent = batch.messages.filter((m) => m.topic === 'c_all');
    assert.equal(confluent.length, alerts.length);
    confluent.forEach((m, i) => {
      const alert = alerts[i]!;
      assert.equal(m.key!.toString('utf8'), alert.objectKey);
      const { schemaId, datum } = decodeConfluent(m.value!);
      assert.equal(schemaId, 4242);
      assert.ok(datum.equals(Buffer.from(alert.wire)), `alert ${alert.alertId}: the datum as stored`);
      assert.equal(m.partition, fink[i]!.partition, `alert ${alert.alertId}: the same partition in both formats`);
      assert.ok(fink[i]!.key!.equals(schema.key), 'the fink topic keeps the schema in its key');
    });
    assert.deepEqual(batch.unstamped, [], 'every id was known');
  });

  test('a schema whose id is not known yet: its values are listed to be stamped, and none is stamped without an id from a registry', async () => {
    const batch = buildBatch(alerts, [target('c_all')], wire, 'stop', format(new Map()));
    assert.equal(batch.unstamped.length, alerts.length);
    assert.deepEqual(batch.schemas.map((s) => s.topic), ['c_all']);
    // The stamping step alone: a registry-less ConfluentTopics told the id, as a registration would.
    const topics = new ConfluentTopics({ default: 'confluent', topics: [], registry: undefined, compatibility: 'BACKWARD' }, silentLogger);
    await assert.rejects(topics.prepare(batch), /DISTRIBUTION_SCHEMA_REGISTRY is not set/);
    assert.ok(batch.messages.every((m) => decodeConfluent(m.value!).schemaId === 0), 'nothing stamped without an id');
  });
});

describe('DISTRIBUTION_FORMAT and DISTRIBUTION_FORMAT_TOPICS', () => {
  const settingsOf = (env: Record<string, string>) => distributionSettings(loadConfig({ env: testEnv(env) }));

  test('the first entry whose pattern matches the whole topic name gives its format; the others have DISTRIBUTION_FORMAT', () => {
    const { format } = settingsOf({ DISTRIBUTION_FORMAT_TOPICS: 'fink_light_lsst=fink,fink_.*_lsst=confluent', DISTRIBUTION_SCHEMA_REGISTRY: 'http://127.0.0.1:1/apis/ccompat/v7' });
    const topics = new ConfluentTopics(format, silentLogger);
    assert.equal(topics.confluent('fink_sn_candidates_lsst'), true);
    assert.equal(topics.confluent('fink_light_lsst'), false, 'the first match wins');
    assert.equal(topics.confluent('fink_sn_candidates_lsst_old'), false, 'the whole name must match');
    assert.equal(topics.confluent('distribution_test'), false, 'default fink');
    assert.equal(format.compatibility, 'BACKWARD', 'the default level');
    const all = settingsOf({ DISTRIBUTION_FORMAT: 'confluent', DISTRIBUTION_FORMAT_TOPICS: 'distribution_test=fink', DISTRIBUTION_SCHEMA_REGISTRY: 'http://127.0.0.1:1' }).format;
    assert.equal(new ConfluentTopics(all, silentLogger).confluent('fink_early_sn_candidates_ztf'), true);
    assert.equal(new ConfluentTopics(all, silentLogger).confluent('distribution_test'), false);
  });

  test('fink start distribution --help names the two formats and their keys', () => {
    const help = runCli('fink', ['start', 'distribution', '--help'], {});
    assert.equal(help.status, 0, help.stderr);
    for (const key of ['DISTRIBUTION_FORMAT=confluent', 'DISTRIBUTION_FORMAT_TOPICS', 'DISTRIBUTION_SCHEMA_REGISTRY', '<topic>-value']) assert.ok(help.stdout.includes(key), `--help names ${key}`);
  });

  test('fink is the default, and needs no registry', () => {
    const { format } = settingsOf({ DISTRIBUTION_SCHEMA_REGISTRY: '' });
    assert.equal(format.default, 'fink');
    assert.equal(format.registry, undefined, 'an empty URL is no registry');
  });

  test('a format that is neither fink nor confluent is refused, naming the key', () => {
    assert.throws(() => settingsOf({ DISTRIBUTION_FORMAT_TOPICS: 'fink_.*=avro' }), /DISTRIBUTION_FORMAT_TOPICS: 'avro' is not one of fink, confluent/);
  });

  test('a registry URL that is not a URL is refused at once, its credentials not shown', () => {
    assert.throws(() => settingsOf({ DISTRIBUTION_FORMAT: 'confluent', DISTRIBUTION_SCHEMA_REGISTRY: 'https://user:s3cret@' }), (err: Error) => /DISTRIBUTION_SCHEMA_REGISTRY: .* is not a URL/.test(err.message) && !err.message.includes('s3cret'));
  });

  test("secured mode: the registry is asked as the service's Kafka user, unless its URL names a user of its own", () => {
    const secured = { KAFKA_SECURITY_PROTOCOL: 'SASL_PLAINTEXT', KAFKA_SASL_USERNAME: 'svc', KAFKA_SASL_PASSWORD: 'pw-of-svc', DISTRIBUTION_FORMAT: 'confluent' };
    const asService = new URL(settingsOf({ ...secured, DISTRIBUTION_SCHEMA_REGISTRY: 'http://127.0.0.1:8082/apis/ccompat/v7' }).format.registry!);
    assert.deepEqual([asService.username, asService.password, asService.pathname], ['svc', 'pw-of-svc', '/apis/ccompat/v7']);
    const own = new URL(settingsOf({ ...secured, DISTRIBUTION_SCHEMA_REGISTRY: 'http://reg:its-own@127.0.0.1:8082/apis/ccompat/v7' }).format.registry!);
    assert.deepEqual([own.username, own.password], ['reg', 'its-own']);
    assert.equal(new URL(settingsOf({ DISTRIBUTION_FORMAT: 'confluent', DISTRIBUTION_SCHEMA_REGISTRY: 'http://127.0.0.1:8082/x' }).format.registry!).username, '', 'open mode sends no credentials');
  });

  test('secured mode: readers (distribution_test, the console) send their Kafka user to the registry only when its reads are authenticated', () => {
    const secured = { KAFKA_SECURITY_PROTOCOL: 'SASL_PLAINTEXT', KAFKA_SASL_USERNAME: 'reader', KAFKA_SASL_PASSWORD: 'pw-of-reader', DISTRIBUTION_SCHEMA_REGISTRY: 'http://127.0.0.1:8082/apis/ccompat/v7' };
    const readUrl = (env: Record<string, string>) => new URL(schemaRegistryUrl(loadConfig({ env: testEnv(env) }), 'read')!);
    assert.equal(readUrl(secured).username, '', 'open reads (the default) carry no password');
    const authenticated = readUrl({ ...secured, DISTRIBUTION_REGISTRY_READS: 'authenticated' });
    assert.deepEqual([authenticated.username, authenticated.password], ['reader', 'pw-of-reader']);
    assert.equal(schemaRegistryUrl(loadConfig({ env: testEnv({ ...secured, DISTRIBUTION_SCHEMA_REGISTRY: '' }) }), 'read'), undefined);
  });

  test('fink start distribution: confluent without DISTRIBUTION_SCHEMA_REGISTRY is one line and exit 2', () => {
    const root = tempDir('confluent-usage');
    try {
      const envs: Record<string, string>[] = [{ DISTRIBUTION_FORMAT: 'confluent' }, { DISTRIBUTION_FORMAT_TOPICS: 'fink_.*_lsst=confluent' }];
      for (const env of envs) {
        // Set empty, as a default URL (the managed registry's) may be configured where this runs.
        const run = runCli('fink', ['start', 'distribution', '--until-caught-up'], { ...env, DISTRIBUTION_SCHEMA_REGISTRY: '', SCIENCE_DB_PATH: `${root}/science`, DISTRIBUTION_STATE_DIR: `${root}/state` });
        assert.equal(run.status, 2, run.stderr);
        assert.deepEqual(run.stderr.split('\n').filter((l) => l.startsWith('fink:')).length, 1, run.stderr);
        assert.match(run.stderr, /^fink: .*confluent.* DISTRIBUTION_SCHEMA_REGISTRY is not set/);
        assert.doesNotMatch(run.stderr, /^\s+at /m, 'no stack');
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

test("the field a registry's refusal points at, by its JSON pointer in the refused schema", () => {
  const schema = { type: 'record', name: 'alert', fields: [{ name: 'objectId', type: 'string' }, { name: 'candidate', type: { type: 'record', name: 'candidate', fields: [{ name: 'jd', type: 'double' }, { name: 'drb', type: ['null', 'float'] }] } }] } as RecordSchema;
  assert.equal(fieldAt(schema, '/fields/0'), 'objectId');
  assert.equal(fieldAt(schema, '/fields/0/type'), 'objectId');
  assert.equal(fieldAt(schema, '/fields/1/type/fields/1'), 'candidate.drb');
  assert.equal(fieldAt(schema, '/fields/9'), undefined);
});
