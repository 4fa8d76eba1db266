import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createSimulation } from '../../src/sciencedb/simulate.ts';
import { decodeLogAlert, encodeLogAlert, LogRecordError, logKey, LOG_FORMAT_VERSION } from '../../src/sciencedb/log-format.ts';
import { SURVEY_PROFILES } from '../../src/sciencedb/simulation.ts';
import type { Survey } from '../../src/alert/survey.ts';
import { parseAvroType } from '../../src/avro/schema.ts';
import { STORE_COLUMNS, type NewAlert } from '../../src/sciencedb/store.ts';

/**
 * Format 1 written down as it was first defined: the format byte, then this record in Avro's
 * binary encoding. The encoder writes its parts separately (the wire copied once); the bytes must
 * stay these, or records already in a log would not read.
 */
function formatOneValue(alert: NewAlert, ingestedMs: number): Buffer {
  const kinds = { real: 'double', int: 'double', text: 'string', bool: 'boolean', id: 'long' } as const;
  const columns = STORE_COLUMNS.filter((c) => c.surveys.includes(alert.survey));
  const type = parseAvroType({
    type: 'record',
    name: `fink.science_log.${alert.survey}.v1`,
    fields: [
      { name: 'alertId', type: 'long' }, { name: 'objectKey', type: 'string' }, { name: 'night', type: 'string' },
      { name: 'ingestedMs', type: 'long' }, { name: 'schemaId', type: 'string' }, { name: 'addedSchemaId', type: ['null', 'string'] },
      { name: 'datumLength', type: 'int' }, { name: 'wire', type: 'bytes' },
      { name: 'fields', type: { type: 'record', name: 'fields', fields: columns.map((c) => ({ name: c.name, type: ['null', kinds[c.kind]] })) } },
    ],
  });
  const source = alert.fields as unknown as Record<string, unknown>;
  const fields = Object.fromEntries(columns.map((c) => {
    const v = source[c.name];
    return [c.name, v === undefined || v === null ? null : c.kind === 'id' ? BigInt(v as number) : v];
  }));
  const wire = alert.added === null ? Buffer.from(alert.datum) : Buffer.concat([alert.datum, alert.added.datum]);
  const body = type.toBuffer({ alertId: alert.alertId, objectKey: alert.objectKey, night: alert.night, ingestedMs: BigInt(ingestedMs), schemaId: alert.schemaId, addedSchemaId: alert.added?.schemaId ?? null, datumLength: alert.datum.length, wire, fields });
  return Buffer.concat([Buffer.from([1]), body]);
}

describe('the science log record', () => {
  for (const survey of ['ztf', 'lsst'] as Survey[]) {
    test(`${survey}: a simulated alert comes back with its identity, its typed fields and its bytes unchanged`, () => {
      const sim = createSimulation({ profile: SURVEY_PROFILES[survey][0]!, seed: 3, night: '20261125' });
      for (let i = 0; i < 30; i++) {
        const alert = sim.next();
        const value = encodeLogAlert(alert, 1_765_000_000_123 + i);
        assert.equal(value[0], LOG_FORMAT_VERSION);
        const back = decodeLogAlert(survey, value, `record ${i}`);
        assert.equal(back.survey, survey);
        assert.equal(back.alertId, alert.alertId);
        assert.equal(back.objectKey, alert.objectKey);
        assert.equal(back.night, alert.night);
        assert.equal(back.ingestedMs, 1_765_000_000_123 + i);
        assert.equal(back.schemaId, alert.schemaId);
        assert.deepEqual(Buffer.from(back.datum), Buffer.from(alert.datum));
        assert.equal(back.added?.schemaId, alert.added?.schemaId);
        assert.deepEqual(Buffer.from(back.added!.datum), Buffer.from(alert.added!.datum));
        assert.deepEqual(Buffer.from(back.wire), Buffer.concat([alert.datum, alert.added!.datum]));
        const fields = alert.fields as unknown as Record<string, unknown>;
        for (const [name, v] of Object.entries(back.fields)) {
          if (fields[name] === undefined) continue;
          assert.deepEqual(v, fields[name] ?? null, `field ${name} of alert ${i}`);
          if (typeof v === 'number') assert.ok(Object.is(v, fields[name]), `field ${name} bit for bit`);
        }
        assert.equal(logKey(alert).toString(), alert.objectKey);
      }
    });
  }

  for (const profile of ['ztf', 'ztf-light', 'lsst', 'lsst-light']) {
    test(`${profile}: a record's bytes are format 1's, with and without added values`, () => {
      const sim = createSimulation({ profile: profile as 'ztf', seed: 5, night: '20261205' });
      for (let i = 0; i < 10; i++) {
        const alert = sim.next();
        for (const a of [alert, { ...alert, added: null }]) assert.deepEqual(encodeLogAlert(a, 1_765_000_000_000 + i), formatOneValue(a, 1_765_000_000_000 + i), `alert ${i}${a.added === null ? ' without added values' : ''}`);
      }
    });
  }

  test("a record's bytes are format 1's whatever the wire's length (each width of its length's varint)", () => {
    const alert = createSimulation({ profile: 'ztf-light', seed: 6, night: '20261205' }).next();
    for (const n of [0, 1, 63, 64, 65, 8191, 8192, 1_048_575, 1_048_576, 3 << 20]) {
      const datum = Buffer.alloc(n, 0xab);
      for (const added of [null, alert.added]) {
        const a = { ...alert, datum, added };
        assert.deepEqual(encodeLogAlert(a, 7), formatOneValue(a, 7), `a datum of ${n} bytes${added === null ? '' : ' and added values'}`);
      }
    }
  });

  test("a record written into a writer's arena is the same bytes, in the memory handed out", () => {
    const sim = createSimulation({ profile: 'lsst', seed: 8, night: '20261205' });
    const arena = Buffer.alloc(4 << 20, 0xee);
    let used = 0;
    const take = (size: number) => arena.subarray(used, (used += size));
    for (let i = 0; i < 5; i++) {
      const alert = sim.next();
      const before = used;
      const value = encodeLogAlert(alert, 9, take);
      assert.equal(value.buffer, arena.buffer, 'a view of the arena');
      assert.equal(value.byteOffset, arena.byteOffset + before);
      assert.deepEqual(value, encodeLogAlert(alert, 9), `alert ${i}`);
    }
  });

  test('a value of another format, or cut short, is refused naming where it was read', () => {
    const alert = createSimulation({ profile: 'ztf-light', seed: 1, night: '20261125' }).next();
    const value = encodeLogAlert(alert, 1);
    assert.throws(() => decodeLogAlert('ztf', Buffer.from([9, 1, 2]), 'fink_science_ztf[3]@7'), (e: Error) => e instanceof LogRecordError && /fink_science_ztf\[3\]@7.*format 1.*first byte 9/.test(e.message));
    assert.throws(() => decodeLogAlert('ztf', value.subarray(0, value.length - 10), 'p0@1'), (e: Error) => e instanceof LogRecordError && /p0@1: not a ztf science log record/.test(e.message));
    assert.throws(() => decodeLogAlert('ztf', Buffer.alloc(0), 'p0@2'), LogRecordError);
  });
});
