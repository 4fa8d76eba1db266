// A Rubin alert is decoded only for the values its typed fields read (LSST_FIELD_READS through
// src/avro/projection.ts): the view it gives must be the full decode's, value for value, on every
// schema a Rubin alert comes in.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { readContainer } from '../../src/avro/container.ts';
import { sanitizeSchema, type AvroSchema, type AvroType } from '../../src/avro/schema.ts';
import { viewAlert } from '../../src/alert/survey.ts';
import { decodeDatum, SchemaCache, type WriterSchema } from '../../src/sciencedb/decode.ts';
import { createSimulation } from '../../src/sciencedb/simulate.ts';
import { haveLsstData, LSST_DATA, LSST_SAMPLES } from '../helpers/data.ts';
import { lsstMessages } from '../helpers/wire.ts';

type Outcome = { view: unknown } | { error: string };

function outcome(read: () => unknown): Outcome {
  try {
    return { view: read() };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/** The view of a datum decoded in full, and through the writer's projection. */
function bothWays(writer: WriterSchema, datum: Buffer): [Outcome, Outcome] {
  const p = writer.fields!;
  return [
    outcome(() => viewAlert('lsst', writer.type.fromBuffer(datum) as Record<string, unknown>)),
    outcome(() => viewAlert('lsst', p.reader.decode(datum, 0, p.resolver).value as Record<string, unknown>)),
  ];
}

/** Rubin's schema of each sample, and Fink's distribution schema (Rubin's alert and Fink's clf, xm, pred...). */
function rubinSchemas(): AvroSchema[] {
  const fink = JSON.parse(readFileSync(join(LSST_DATA, 'fink_lsst_distribution_schema_2026-03-18.json'), 'utf8')) as AvroSchema;
  return [...LSST_SAMPLES.map((f) => readContainer(readFileSync(f)).schema), fink];
}

/** A random alert of `type`, half of them with a time inside the survey's window and an object. */
function randomDatum(type: AvroType, i: number): Buffer {
  const alert = type.random() as unknown as Record<string, unknown> & { diaSource: Record<string, unknown> };
  if (i % 2 === 0) Object.assign(alert.diaSource, { midpointMjdTai: 61000 + i / 7, diaObjectId: 2n ** 61n + BigInt(i) });
  return type.toBuffer(alert);
}

describe('Rubin alerts decoded for their typed fields only', () => {
  test("every Rubin schema is read through a projection, and the samples' views are the full decode's", (t) => {
    if (!haveLsstData(t)) return;
    const cache = new SchemaCache();
    const messages = lsstMessages();
    assert.ok(messages.length >= 6);
    for (const m of messages) {
      const writer = cache.get(m.key.toString());
      assert.notEqual(writer.fields, undefined, 'a Rubin schema is projected');
      const [full, projected] = bothWays(writer, m.value);
      assert.deepEqual(projected, full);
      // decodeDatum is what stream2science calls: the same view, the datum as it arrived.
      const { alert, end } = decodeDatum(writer, m.value);
      assert.equal(end, m.value.length);
      assert.deepEqual({ survey: alert.survey, fields: alert.fields, alertId: alert.alertId, objectKey: alert.objectKey, night: alert.night }, (full as { view: unknown }).view);
      assert.equal(Buffer.compare(Buffer.from(alert.datum), m.value), 0);
    }
  });

  test("random alerts of every Rubin schema and of Fink's (with clf, xm and pred) give the full decode's view or its error", (t) => {
    if (!haveLsstData(t)) return;
    const cache = new SchemaCache();
    for (const schema of rubinSchemas()) {
      const writer = cache.get(JSON.stringify(sanitizeSchema(schema)));
      assert.notEqual(writer.fields, undefined);
      let views = 0;
      for (let i = 0; i < 60; i++) {
        const [full, projected] = bothWays(writer, randomDatum(writer.type, i));
        assert.deepEqual(projected, full);
        if ('view' in full) views++;
      }
      assert.ok(views > 0, 'some random alerts have a view to compare');
    }
  });

  test("the simulator's Rubin alerts give the same stored fields both ways", () => {
    const sim = createSimulation({ profile: 'lsst', seed: 5, night: '20261126' });
    const cache = new SchemaCache();
    for (let i = 0; i < 20; i++) {
      const a = sim.next();
      const writer = cache.get(a.schemaJson);
      const [full, projected] = bothWays(writer, Buffer.from(a.datum));
      assert.deepEqual(projected, full);
      // The simulator's own view (its fields also hold the added record's values, not in this datum).
      assert.equal((projected as { view: { alertId: bigint } }).view.alertId, a.alertId);
    }
  });
});
