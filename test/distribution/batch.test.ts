// The batch builder, without a broker: simulated alerts read from a science database, topic plans
// with real filter functions, and the messages that come out.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { rmSync } from 'node:fs';
import { parseAvroType, type RecordSchema } from '../../src/avro/schema.ts';
import type { AlertFields } from '../../src/alert/fields.ts';
import { partitionOf } from '../../src/kafka/partitioner.ts';
import { buildBatch, fits, type TopicTarget } from '../../src/distribution/batch.ts';
import type { Filter } from '../../src/distribution/filters.ts';
import { WireSchemas } from '../../src/distribution/wire.ts';
import { openReader, type AlertReader, type StoredAlert } from '../../src/sciencedb/reader.ts';
import { simulateIntoDb } from '../../src/sciencedb/simulate.ts';
import { tempDir } from '../helpers/temp.ts';
import { ztfFields } from '../../src/alert/survey.ts';

function filter(name: string, body: (a: AlertFields) => boolean, dropFields?: string[]): Filter {
  return { name, survey: 'ztf', description: name, filter: body, file: `${name}.ts`, ...(dropFields === undefined ? {} : { dropFields }) } as Filter;
}

function target(topic: string, f: Filter | null, partitions = 3, maxMessageBytes = 10_000_000): TopicTarget {
  return { plan: { topic, filter: f, drop: f?.dropFields ?? [] }, partitions, maxMessageBytes };
}

describe('buildBatch', () => {
  let dir: string;
  let reader: AlertReader;
  let alerts: StoredAlert[];
  let wire: WireSchemas;

  before(() => {
    dir = tempDir('batch');
    simulateIntoDb(dir, { profile: 'ztf-light', seed: 11, night: '20261120' }, 60);
    reader = openReader(dir);
    alerts = reader.read({}, 60).alerts;
    wire = new WireSchemas((id) => reader.schemaJson(id));
  });
  after(() => {
    reader.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('every alert goes to the test topic, and each science topic gets exactly those its filter selects', () => {
    const bright = filter('bright', (a) => (a.magpsf ?? 99) < 18.5);
    const batch = buildBatch(alerts, [target('all', null), target('bright', bright)], wire, 'stop');
    const byTopic = (t: string) => batch.messages.filter((m) => m.topic === t);
    assert.equal(byTopic('all').length, alerts.length);
    const expected = alerts.filter((a) => (ztfFields(a).magpsf ?? 99) < 18.5);
    assert.ok(expected.length > 0 && expected.length < alerts.length, 'the seed gives both kinds');
    assert.equal(byTopic('bright').length, expected.length);
    assert.deepEqual(batch.filterErrors, []);
  });

  test('the value is the stored datum unchanged and the key the compact writer schema', () => {
    const batch = buildBatch(alerts.slice(0, 5), [target('all', null)], wire, 'stop');
    batch.messages.forEach((m, i) => {
      assert.ok(m.value!.equals(Buffer.from(alerts[i]!.wire)));
      const schema = JSON.parse(m.key!.toString()) as RecordSchema;
      assert.equal(m.key!.toString(), JSON.stringify(schema), 'compact JSON');
      const decoded = parseAvroType(schema).fromBuffer(m.value!) as { candid: bigint };
      assert.equal(decoded.candid, alerts[i]!.alertId);
    });
    assert.equal(batch.schemas.length, 1, 'one schema, reported once');
  });

  test('a topic that drops fields gets its own schema, without them, and the values re-encoded', () => {
    const light = filter('light', () => true, ['prv_candidates']);
    const batch = buildBatch(alerts.slice(0, 3), [target('all', null), target('light', light)], wire, 'stop');
    const lightSchema = batch.schemas.find((s) => s.topic === 'light')!;
    assert.equal(lightSchema.selecting, true);
    assert.ok(!lightSchema.wire.schema.fields.some((f) => f.name === 'prv_candidates'));
    const m = batch.messages.find((x) => x.topic === 'light')!;
    const decoded = parseAvroType(lightSchema.wire.schema).fromBuffer(m.value!) as Record<string, unknown>;
    assert.equal(decoded.objectId, alerts[0]!.objectKey);
  });

  test('an alert on several topics of the same content is encoded once: their messages share the value', () => {
    // As user filters of light content do: one array of dropped fields, so one wire schema.
    const drop = ['prv_candidates'];
    const one = filter('one', () => true, drop);
    const two = filter('two', () => true, drop);
    const batch = buildBatch(alerts.slice(0, 3), [target('one', one), target('all', null), target('two', two)], wire, 'stop');
    const [ones, twos] = ['one', 'two'].map((topic) => batch.messages.filter((m) => m.topic === topic));
    assert.equal(ones!.length, 3);
    for (const [i, m] of ones!.entries()) assert.ok(m.value === twos![i]!.value, `alert ${alerts[i]!.alertId}: one value for both light topics`);
    const lightValues = new Set(batch.messages.filter((m) => m.topic !== 'all').map((m) => m.value));
    assert.equal(lightValues.size, 3, 'one encoded value per alert');
  });

  test('partitions come from the object id: one object, one partition; every partition used', () => {
    const batch = buildBatch(alerts, [target('all', null, 4)], wire, 'stop');
    const seen = new Map<string, number>();
    for (const [i, m] of batch.messages.entries()) {
      const objectId = alerts[i]!.objectKey;
      assert.equal(m.partition, partitionOf(objectId, 4));
      if (seen.has(objectId)) assert.equal(seen.get(objectId), m.partition);
      seen.set(objectId, m.partition!);
    }
    assert.deepEqual(new Set(batch.messages.map((m) => m.partition)), new Set([0, 1, 2, 3]));
  });

  test('a filter that throws counts the alert as not matching and is reported with its candid', () => {
    const broken = filter('broken', (a) => {
      if (a.candid === alerts[1]!.alertId) throw new Error('boom');
      return true;
    });
    const batch = buildBatch(alerts.slice(0, 3), [target('broken', broken)], wire, 'stop');
    assert.equal(batch.messages.length, 2);
    assert.deepEqual(batch.filterErrors, [{ filter: 'broken', survey: 'ztf', alertId: alerts[1]!.alertId, error: 'boom' }]);
  });

  test('an alert larger than its topic accepts stops the batch, naming it, or is skipped and reported', () => {
    const size = alerts[0]!.wire.length;
    const small = target('small', null, 1, size + 50);
    assert.throws(() => buildBatch(alerts.slice(0, 1), [small], wire, 'stop'), (err: Error) => err.message.includes(String(alerts[0]!.alertId)) && err.message.includes('max.message.bytes'));
    const batch = buildBatch(alerts.slice(0, 1), [small, target('all', null)], wire, 'skip');
    assert.deepEqual(batch.messages.map((m) => m.topic), ['all']);
    assert.equal(batch.oversize.length, 1);
    assert.equal(batch.oversize[0]!.topic, 'small');
    assert.equal(fits(1000, 1000), false, 'headers count');
  });
});
