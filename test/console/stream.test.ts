// The console's live side on a real broker: a topic followed from near its end, never more than a
// few offsets behind (it jumps ahead instead of reading everything), at most a few alerts per
// topic per update pushed to the page, a message that does not decode counted, not fatal.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { decode } from 'fast-png';
import { bufferSource, readContainer } from '../../src/avro/container.ts';
import { parseAvroType, sanitizeSchema, type RecordSchema } from '../../src/avro/schema.ts';
import { consoleServer } from '../../src/console/server.ts';
import type { RowMessage } from '../../src/console/held.ts';
import { after, before, describe, test } from 'node:test';
import { Producer } from '@platformatic/kafka';
import { MessageDecoder } from '../../src/consumer/message-decoder.ts';
import { HeldAlerts } from '../../src/console/held.ts';
import { LiveConsole, type ConsoleEvent } from '../../src/console/live.ts';
import { TopicFeed } from '../../src/console/stream.ts';
import { loadConfig } from '../../src/config/config.ts';
import { kafkaClientOptions, type KafkaConnection } from '../../src/kafka/client-options.ts';
import { ensureTopic } from '../../src/kafka/topics.ts';
import { readTopic } from '../../src/kafka/topic-reader.ts';
import { testEnv } from '../helpers/cli.ts';
import { haveRealData, SHARED_DATA } from '../helpers/data.ts';
import { startTestCluster, type TestCluster } from '../helpers/kafka.ts';
import { tempDir } from '../helpers/temp.ts';
import { waitFor } from '../helpers/wait.ts';
import { realMessages, schemasOf, writeSchemaFiles, type WireMessage } from '../helpers/wire.ts';

const PARTITIONS = 3;

describe('the console following topics', { timeout: 600_000 }, () => {
  let cluster: TestCluster;
  let connection: KafkaConnection;
  let producer: Producer;
  const schemaBase = join(tempDir('console-stream'), 'schemas', 'distribution_schema.avsc');

  before(async () => {
    cluster = await startTestCluster();
    connection = kafkaClientOptions(loadConfig({ env: testEnv(cluster.env) }));
    producer = new Producer({ clientId: 'console-test', ...connection, retries: 20, retryDelay: 500 });
  });

  after(async () => {
    await producer?.close();
    await cluster?.stop();
  });

  async function send(topic: string, messages: readonly WireMessage[], from: number, count: number): Promise<void> {
    // Real alerts carry their cutouts: a few per request stay under the broker's 1 MB limit.
    for (let i = 0; i < count; i += 8) {
      const batch = Array.from({ length: Math.min(8, count - i) }, (_, j) => messages[(from + i + j) % messages.length]!);
      await producer.send({ messages: batch.map((m, j) => ({ topic, partition: (from + i + j) % PARTITIONS, key: m.key, value: m.value })) });
    }
  }

  /** A console on one topic alone (no science topics, no service, an empty database). */
  function liveOn(topic: string): LiveConsole {
    return new LiveConsole({ connection, schemaBase, testTopic: topic, prefix: 'no_science_topics_', scienceDb: tempDir('console-db'), metricsPort: undefined, probe: { process: () => ({ id: 'x', pid: undefined }), checkpoint: async () => null } });
  }

  /** The real alerts as messages, their schema files written, and a fresh topic for them. */
  async function realTopic(topic: string, partitions = PARTITIONS): Promise<WireMessage[]> {
    const real = realMessages();
    writeSchemaFiles(schemaBase, schemasOf(real));
    await ensureTopic(connection, topic, { partitions, replicationFactor: 1 });
    return real;
  }

  test('a feed starts 20 offsets before each partition\'s end, stays near the end, and hands out the newest few', async (t) => {
    if (!haveRealData(t)) return;
    const topic = 'console_feed';
    const real = await realTopic(topic);
    await send(topic, real, 0, 3000);
    const feed = new TopicFeed(topic, 8);
    const controller = new AbortController();
    const following = feed.follow(connection, 20, controller.signal);
    try {
      await waitFor('the last 20 offsets of each partition read', () => feed.counts.messages >= 20 * PARTITIONS, { detail: () => JSON.stringify(feed.counts) });
      assert.equal(feed.counts.messages, 20 * PARTITIONS, 'nothing before the last 20 of each partition is read');
      const held = new HeldAlerts(100);
      const rows = feed.take(new MessageDecoder(schemaBase), held);
      assert.equal(rows.length, 8, 'only the newest 8 are decoded');
      assert.ok(rows.every((r) => held.get(r.id) !== undefined && r.object.startsWith('ZTF')));

      await send(topic, real, 3000, 3000);
      await waitFor('the stable ends to show 3000 more committed offsets', () => feed.counts.committed >= 3000, { detail: () => JSON.stringify(feed.counts) });
      // The newest message of each partition is read, whatever was jumped over to reach it.
      await waitFor('the newest messages read', () => [0, 1, 2].every((p) => feed.counts.latest[p] === feed.counts.ends[p]! - 1), { detail: () => JSON.stringify(feed.counts) });
      assert.ok(feed.counts.messages <= 20 * PARTITIONS + 3000, `at most what arrived was read (${feed.counts.messages})`);
      t.diagnostic(`read ${feed.counts.messages} of 6000 messages to stay live`);
    } finally {
      controller.abort();
      await following;
    }
  });

  test('readTopic with tail jumps a reader that fell behind to 20 before the end, rather than reading everything', async (t) => {
    if (!haveRealData(t)) return;
    const topic = 'console_jump';
    const real = await realTopic(topic, 1);
    await send(topic, real, 0, 30);
    const reader = readTopic(connection, topic, { follow: true, tail: 20 });
    try {
      const first = await reader.next();
      assert.equal(first.value?.offset, 10n, 'starts 20 before the end of 30');
      // The reader is not asked for more while 3000 arrive: it is 3000 behind when it goes on.
      const pending: bigint[] = [];
      await send(topic, real, 30, 3000);
      for (;;) {
        const next = await reader.next();
        pending.push(next.value!.offset);
        if (next.value!.offset === 3029n) break;
      }
      const fromOld = pending.filter((o) => o < 30n).length;
      assert.ok(pending.length - fromOld <= 20, `after the jump, only the last 20 offsets are read (read ${pending.length}: ${fromOld} of the first fetch, then from offset ${pending.find((o) => o >= 30n)})`);
    } finally {
      await reader.return(undefined);
    }
  });

  test('the page gets at most 8 alerts per topic an update, at most 2.5 updates a second, while thousands flow; bad messages are counted', async (t) => {
    if (!haveRealData(t)) return;
    const topic = 'console_live';
    const real = await realTopic(topic);
    const live = liveOn(topic);
    const updates: { at: number; rows: number }[] = [];
    live.start();
    const unsubscribe = live.subscribe((event: ConsoleEvent) => {
      if (event.type === 'alerts' && event.rows.length > 0) updates.push({ at: Date.now(), rows: event.rows.length });
    });
    try {
      const bad = { key: Buffer.from('not a schema'), value: Buffer.from('x') };
      // The flood goes on, 400 alerts at a time, until the page has had three updates during it
      // (at least 2,000 alerts): on a slow machine the console may start reading late.
      let sent = 0;
      await waitFor('three updates of the page while alerts flow', async () => {
        await send(topic, [...real, bad], sent, 400);
        sent += 400;
        return sent >= 2000 && updates.length >= 3;
      }, { timeoutMs: 600_000, detail: () => `${sent} sent: ${JSON.stringify(updates)}` });
      // The page samples the newest few of each update: a bad message in the flood is counted only if
      // a sample happens to hold it, so the last message sent to every partition is a bad one. One
      // would not do: "newest" is the order read, and a fetch that reads the bad one at the end of
      // partition 0 and then 20 of each other partition's backlog leaves it out of the sample (a CI
      // run failed so); whichever partition is read last, its last message is a bad one.
      await send(topic, [bad], 0, PARTITIONS);
      await waitFor('the undecodable messages counted', () => live.serviceEvent().type === 'service' && (live.serviceEvent() as Extract<ConsoleEvent, { type: 'service' }>).panel.errors.some((e) => /undecodable on console_live/.test(e.kind)), { detail: () => JSON.stringify(live.serviceEvent()) });
      assert.ok(updates.every((u) => u.rows <= 8), `no update above 8 alerts: ${JSON.stringify(updates)}`);
      for (let i = 1; i < updates.length; i++) assert.ok(updates[i]!.at - updates[i - 1]!.at >= 350, `updates at least ~400 ms apart: ${JSON.stringify(updates)}`);
    } finally {
      unsubscribe();
      live.stop();
    }
  });

  test('a Rubin alert on a topic gets its own row (diaObjectId, diaSourceId, MJD, psfFlux), its cutouts as PNG and its flux light curve', async (t) => {
    if (!haveRealData(t)) return;
    const container = readContainer(bufferSource(readFileSync(join(SHARED_DATA, 'lsst', 'fakeAlert-v10_0.avro'))));
    const schema = sanitizeSchema(container.schema as RecordSchema);
    const datum = container.blocks().next().value!.data;
    const record = parseAvroType(schema).fromBuffer(datum) as Record<string, Record<string, unknown>>;
    writeSchemaFiles(schemaBase, [schema]);
    const topic = 'console_rubin';
    await ensureTopic(connection, topic, { partitions: 1, replicationFactor: 1 });
    await producer.send({ messages: [{ topic, partition: 0, key: Buffer.from(JSON.stringify(schema)), value: datum }] });
    const live = liveOn(topic);
    const rows: RowMessage[] = [];
    live.start();
    const unsubscribe = live.subscribe((event) => {
      if (event.type === 'alerts') rows.push(...event.rows);
    });
    const server = consoleServer(live);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/alert/`;
    try {
      const row = await waitFor('the Rubin alert on the page', () => rows.find((r) => r.topic === topic));
      assert.equal(row.survey, 'rubin');
      assert.equal(row.source, String(record.diaSourceId));
      assert.equal(row.time, record.diaSource!.midpointMjdTai);
      assert.equal(row.brightness, record.diaSource!.psfFlux);
      assert.equal(row.band, record.diaSource!.band);
      const detail = await (await fetch(base + encodeURIComponent(row.id))).json() as { cutouts: string[]; lightCurve: { valueLabel: string; bands: { band: string; points: unknown[] }[] } };
      assert.equal(detail.lightCurve.valueLabel, 'psfFlux (nJy)');
      const sources = [record.diaSource!, ...((record.prvDiaSources as unknown as Record<string, unknown>[] | null) ?? [])];
      assert.equal(detail.lightCurve.bands.reduce((n, b) => n + b.points.length, 0), sources.filter((s) => typeof s.psfFlux === 'number' && Number.isFinite(s.psfFlux)).length);
      const present = ['science', 'template', 'difference'].filter((k) => record[`cutout${k[0]!.toUpperCase()}${k.slice(1)}`] !== null);
      assert.deepEqual(detail.cutouts, present);
      for (const kind of detail.cutouts) {
        const png = decode(new Uint8Array(await (await fetch(`${base}${encodeURIComponent(row.id)}/cutout/${kind}.png`)).arrayBuffer()));
        assert.ok(png.width > 0 && png.height > 0, `${kind}: a decoded PNG`);
      }
    } finally {
      unsubscribe();
      live.stop();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

