// User filters' topics in the batch builder, without a broker: a compiled condition as a topic's
// test (only its survey's alerts, one row per alert for all conditions), and a condition that
// throws, as UserTopics compiles them.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { rmSync } from 'node:fs';
import { buildBatch, type TopicTarget } from '../../src/distribution/batch.ts';
import { Metrics } from '../../src/distribution/metrics.ts';
import type { UserCondition } from '../../src/distribution/topics.ts';
import { WireSchemas } from '../../src/distribution/wire.ts';
import { ztfFields } from '../../src/alert/survey.ts';
import { openReader, type AlertReader, type StoredAlert } from '../../src/sciencedb/reader.ts';
import { simulateIntoDb } from '../../src/sciencedb/simulate.ts';
import { compileCondition } from '../../src/userfilter/condition.ts';
import type { Row } from '../../src/userfilter/row.ts';
import { tempDir } from '../helpers/temp.ts';

function target(topic: string, condition: UserCondition): TopicTarget {
  return { plan: { topic, filter: null, drop: [], condition }, partitions: 3, maxMessageBytes: 10_000_000 };
}

function user(key: string, where: string, survey: 'ztf' | 'lsst'): UserCondition {
  return { key, survey, testRow: compileCondition(where, survey).testRow };
}

describe('user filters in buildBatch', () => {
  let dir: string;
  let reader: AlertReader;
  let alerts: StoredAlert[];
  let wire: WireSchemas;

  before(() => {
    dir = tempDir('user-batch');
    simulateIntoDb(dir, { profile: 'ztf-light', seed: 13, night: '20261205' }, 80);
    reader = openReader(dir);
    alerts = reader.read({}, 80).alerts;
    wire = new WireSchemas((id) => reader.schemaJson(id));
  });
  after(() => {
    reader.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("a user filter's topic gets exactly the alerts its condition matches", () => {
    const batch = buildBatch(alerts, [target('u_bright', user('public/bright/ztf', 'magpsf < 18.5 AND fid = 1', 'ztf'))], wire, 'stop');
    const expected = alerts.filter((a) => (ztfFields(a).magpsf ?? 99) < 18.5 && ztfFields(a).fid === 1).length;
    assert.ok(expected > 0 && expected < alerts.length, 'the seed gives both kinds');
    assert.equal(batch.messages.length, expected);
  });

  test("a registration of the other survey gets none of this survey's alerts, and is never asked", () => {
    let asked = 0;
    const lsst: UserCondition = { key: 'public/any/lsst', survey: 'lsst', testRow: () => (asked++, true) };
    const batch = buildBatch(alerts, [target('u_any_lsst', lsst)], wire, 'stop');
    assert.equal(batch.messages.length, 0);
    assert.equal(asked, 0);
  });

  test("an alert's row is built once for all the user conditions", () => {
    const rows: Row[] = [];
    const spy = (key: string): UserCondition => ({ key, survey: 'ztf', testRow: (row) => (rows.push(row), false) });
    buildBatch(alerts, [target('a', spy('public/a/ztf')), target('b', spy('public/b/ztf')), target('c', spy('public/c/ztf'))], wire, 'stop');
    assert.equal(rows.length, alerts.length * 3);
    assert.equal(new Set(rows).size, alerts.length);
  });

  test('a message refused by the quota is left out; the others of the batch go', () => {
    let left = 2;
    const capped: UserCondition = { ...user('public/all/ztf', 'fid = 1 OR fid = 2', 'ztf'), admit: () => left-- > 0 };
    const batch = buildBatch(alerts, [target('u_all', capped)], wire, 'stop');
    assert.equal(batch.messages.length, 2);
  });

  test('a condition that throws for an alert does not match it, and the others are not stopped', () => {
    const metrics = new Metrics();
    const boom = { name: 'boom', survey: 'ztf' as const, description: 'throws for fid 2', test: ((f: { fid: number }) => {
      if (f.fid === 2) throw new Error('boom');
      return true;
    }) as (fields: never) => boolean };
    const throwing: UserCondition = { key: 'public/boom/ztf', survey: 'ztf', testRow: compileCondition('boom', 'ztf', { predicates: [boom], onError: () => metrics.countUserFilterError('public/boom/ztf') }).testRow };
    const batch = buildBatch(alerts, [target('u_boom', throwing), target('u_bright', user('public/bright/ztf', 'magpsf < 18.5', 'ztf'))], wire, 'stop');
    const fid2 = alerts.filter((a) => ztfFields(a).fid === 2).length;
    assert.ok(fid2 > 0, 'the seed has fid 2 alerts');
    assert.equal(batch.messages.filter((m) => m.topic === 'u_boom').length, alerts.length - fid2);
    assert.equal(batch.messages.filter((m) => m.topic === 'u_bright').length, alerts.filter((a) => (ztfFields(a).magpsf ?? 99) < 18.5).length);
    assert.equal(metrics.userFilterErrors.get('public/boom/ztf'), fid2);
    assert.match(metrics.render(), /fink_distribution_user_filter_errors_total\{filter="public\/boom\/ztf"\} \d+/);
  });
});
