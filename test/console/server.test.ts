// The console's HTTP side without Kafka: search over a simulated science database, one alert's
// detail, its cutouts as PNG and its Avro file; and the Prometheus text the panel reads.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { decode } from 'fast-png';
import { bufferSource, readContainer } from '../../src/avro/container.ts';
import { parseAvroType, type RecordSchema } from '../../src/avro/schema.ts';
import { LiveConsole } from '../../src/console/live.ts';
import { parsePrometheus } from '../../src/console/panel.ts';
import { consoleServer, listen } from '../../src/console/server.ts';
import { createServer } from 'node:http';
import { FinkError } from '../../src/errors.ts';
import { Metrics } from '../../src/distribution/metrics.ts';
import { createSimulation, simulateIntoDb } from '../../src/sciencedb/simulate.ts';
import { tempDir } from '../helpers/temp.ts';

type Rec = Record<string, unknown>;

describe('the console server', () => {
  const db = tempDir('console-db');
  const options = { profile: 'ztf' as const, seed: 5, night: '20261125' };
  let live: LiveConsole;
  let base: string;
  let close: () => Promise<void>;

  before(async () => {
    simulateIntoDb(db, options, 30);
    // Never started: no reader, no panel sampling, so no Kafka is needed (nor asked).
    live = new LiveConsole({ connection: { bootstrapBrokers: ['127.0.0.1:1'] }, schemaBase: `${tempDir('console-schemas')}/s.avsc`, testTopic: 'distribution_test', prefix: 'fink_', scienceDb: db, metricsPort: undefined, probe: { process: () => ({ id: 'x', pid: undefined }), checkpoint: async () => null } });
    const server = consoleServer(live);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => new Promise((resolve) => server.close(() => resolve()));
  });

  after(async () => {
    live.stop();
    await close();
  });

  test('search by objectId and by candid finds the stored alerts; their detail, cutouts and Avro file follow', async () => {
    const sim = createSimulation(options);
    const type = parseAvroType(sim.alertSchema);
    const alerts = Array.from({ length: 30 }, () => type.fromBuffer(Buffer.from(sim.next().datum)) as Rec);
    const target = alerts[7]!;
    const sameObject = alerts.filter((a) => a.objectId === target.objectId).map((a) => String(a.candid)).sort();

    const byObject = await (await fetch(`${base}/api/search?q=${target.objectId as string}`)).json() as { rows: { id: string; source: string }[] };
    assert.deepEqual(byObject.rows.map((r) => r.source).sort(), sameObject);
    const byCandid = await (await fetch(`${base}/api/search?q=${String(target.candid)}`)).json() as { rows: { id: string; source: string; object: string }[] };
    assert.equal(byCandid.rows.length, 1);
    assert.equal(byCandid.rows[0]!.object, target.objectId);

    const id = encodeURIComponent(byCandid.rows[0]!.id);
    const detail = await (await fetch(`${base}/api/alert/${id}`)).json() as { cutouts: string[]; fields: Rec; lightCurve: { bands: { points: unknown[] }[] } };
    assert.deepEqual(detail.cutouts, ['science', 'template', 'difference']);
    assert.equal(detail.fields.candid, String(target.candid), 'the 64-bit candid in full, as text');
    assert.equal((detail.fields.candidate as Rec).magpsf, (target.candidate as Rec).magpsf);
    const detections = [target.candidate as Rec, ...((target.prv_candidates as Rec[] | null) ?? [])].filter((c) => c.magpsf !== null).length;
    assert.equal(detail.lightCurve.bands.reduce((n, b) => n + b.points.length, 0), detections);

    for (const kind of detail.cutouts) {
      const response = await fetch(`${base}/api/alert/${id}/cutout/${kind}.png`);
      assert.equal(response.headers.get('content-type'), 'image/png');
      const png = decode(new Uint8Array(await response.arrayBuffer()));
      assert.deepEqual([png.width, png.height], [63, 63]);
    }

    const file = Buffer.from(await (await fetch(`${base}/api/alert/${id}/alert.avro`)).arrayBuffer());
    const container = readContainer(bufferSource(file));
    const stored = parseAvroType(container.schema as RecordSchema).fromBuffer(container.blocks().next().value!.data) as Rec;
    assert.equal(stored.candid, target.candid);
    assert.ok('cdsxmatch' in stored, 'the values added after ingest come with the alert, as on a full topic');
  });

  test('an alert the console does not hold, a bad search and an unknown path get clear answers', async () => {
    const missing = await fetch(`${base}/api/alert/${encodeURIComponent('distribution_test:0:99')}`);
    assert.equal(missing.status, 404);
    assert.match(((await missing.json()) as { error: string }).error, /distribution_test:0:99 is no longer held/);
    assert.equal((await fetch(`${base}/api/search?q=`)).status, 400);
    assert.equal((await fetch(`${base}/nothing`)).status, 404);
    const page = await fetch(`${base}/`);
    assert.match(await page.text(), /<script src="\/app.js"/);
    assert.equal((await fetch(`${base}/vendor/uPlot.iife.min.js`)).status, 200);
  });
});

test('the panel reads the service\'s Prometheus text: counters per topic and per kind', () => {
  const metrics = new Metrics();
  metrics.declareTopics(['distribution_test', 'fink_sn_candidates_ztf']);
  metrics.countMessage('distribution_test', 1200);
  metrics.countMessage('distribution_test', 800);
  metrics.countError('filter');
  const parsed = parsePrometheus(metrics.render());
  assert.equal(parsed.get('fink_distribution_messages_total')?.get('distribution_test'), 2);
  assert.equal(parsed.get('fink_distribution_bytes_total')?.get('distribution_test'), 2000);
  assert.equal(parsed.get('fink_distribution_messages_total')?.get('fink_sn_candidates_ztf'), 0);
  assert.equal(parsed.get('fink_distribution_errors_total')?.get('filter'), 1);
});

test('a port in use is named, with the way to choose another', async () => {
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const port = (taken.address() as AddressInfo).port;
  try {
    await assert.rejects(listen(createServer(), '127.0.0.1', port), (err: unknown) => err instanceof FinkError && err.message === `port ${port} on 127.0.0.1 is in use: choose another with --port or CONSOLE_PORT`);
  } finally {
    await new Promise((resolve) => taken.close(resolve));
  }
});
