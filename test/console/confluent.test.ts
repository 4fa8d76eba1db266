// The console on a topic carrying both wire formats (issue 24), through its server as a page sees
// it: real alerts written by the test as fink messages and as Confluent messages (their schemas in
// a real Apicurio registry) on a real broker, the server-sent events read over HTTP. Each alert of
// either format gets the same row and the same detail; a message whose schema id the registry does
// not know is counted as undecodable, its error naming where it is and the id.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { encodeConfluent } from '../../src/avro/confluent-wire.ts';
import { readContainer } from '../../src/avro/container.ts';
import { parseAvroType } from '../../src/avro/schema.ts';
import { loadConfig } from '../../src/config/config.ts';
import type { RowMessage } from '../../src/console/held.ts';
import { LiveConsole, type ConsoleEvent } from '../../src/console/live.ts';
import { consoleServer } from '../../src/console/server.ts';
import { kafkaClientOptions } from '../../src/kafka/client-options.ts';
import { testEnv } from '../helpers/cli.ts';
import { interleave, toConfluent } from '../helpers/confluent.ts';
import { haveLsstData, haveRealData } from '../helpers/data.ts';
import type { TestCluster } from '../helpers/kafka.ts';
import { withClusterAndRegistry, type TestRegistry } from '../helpers/registry.ts';
import { tempDir } from '../helpers/temp.ts';
import { waitFor } from '../helpers/wait.ts';
import { lsstMessages, produceMessages, realMessages, schemasOf, writeSchemaFiles } from '../helpers/wire.ts';

/** The page's event stream, read as it comes: every event parsed, kept in order. */
async function readEvents(base: string, signal: AbortSignal): Promise<{ events: ConsoleEvent[]; done: Promise<void> }> {
  const response = await fetch(`${base}/events`, { signal });
  assert.equal(response.status, 200);
  const events: ConsoleEvent[] = [];
  const done = (async () => {
    let text = '';
    try {
      for await (const chunk of response.body!) {
        text += Buffer.from(chunk).toString('utf8');
        for (let end = text.indexOf('\n\n'); end >= 0; end = text.indexOf('\n\n')) {
          const data = text.slice(0, end).split('\n').find((l) => l.startsWith('data: '));
          if (data !== undefined) events.push(JSON.parse(data.slice(6)) as ConsoleEvent);
          text = text.slice(end + 2);
        }
      }
    } catch (err) {
      if (!signal.aborted) throw err;
    }
  })();
  return { events, done };
}

describe('the console on fink and Confluent messages', { timeout: 600_000 }, () => {
  let cluster: TestCluster;
  let registry: TestRegistry;
  withClusterAndRegistry((c, r) => void ([cluster, registry] = [c, r]));

  test('over its event stream, an alert of either format gets the same row and the same detail; an unknown schema id is counted, named with its id', async (t) => {
    if (!haveRealData(t) || !haveLsstData(t)) return;
    const topic = 'console_both_formats';
    const schemaBase = join(tempDir('console-confluent'), 'schemas', 'distribution_schema.avsc');
    const fink = [realMessages()[0]!, lsstMessages()[1]!];
    writeSchemaFiles(schemaBase, schemasOf(fink));
    const { messages: confluent } = await toConfluent(registry.url, topic, fink);
    const unknown = { key: Buffer.from('ZTF00unknown'), value: encodeConfluent(987_654, fink[0]!.value) };
    // Offsets 0..4: ZTF fink, ZTF Confluent, Rubin fink, Rubin Confluent, an unknown id.
    const config = loadConfig({ env: testEnv(cluster.env) });
    await produceMessages(config, topic, [...interleave(fink, confluent), unknown]);

    const live = new LiveConsole({
      connection: kafkaClientOptions(config), schemaBase, schemaRegistry: registry.url, testTopic: topic, prefix: 'no_science_topics_',
      scienceDb: tempDir('console-db'), metricsPort: undefined, probe: { process: () => ({ id: 'x', pid: undefined }), checkpoint: async () => null },
    });
    live.start();
    const server = consoleServer(live);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const controller = new AbortController();
    const { events, done } = await readEvents(base, controller.signal);
    try {
      const rowsOf = () => events.flatMap((e) => (e.type === 'alerts' ? e.rows : []));
      const rows = await waitFor('the four alerts on the page', () => {
        const byOffset = new Map(rowsOf().map((r) => [r.id, r]));
        const four = [0, 1, 2, 3].map((o) => byOffset.get(`${topic}:0:${o}`));
        return four.every((r) => r !== undefined) ? (four as RowMessage[]) : undefined;
      }, { detail: () => JSON.stringify(rowsOf()) });
      const ztf = parseAvroType(JSON.parse(fink[0]!.key.toString())).fromBuffer(fink[0]!.value) as { objectId: string; candid: bigint };
      assert.equal(rows[0]!.survey, 'ztf');
      assert.equal(rows[0]!.object, ztf.objectId);
      assert.equal(rows[0]!.source, String(ztf.candid));
      assert.equal(rows[2]!.survey, 'rubin');
      for (const [f, c] of [[0, 1], [2, 3]] as const) {
        const { id: _f, timeMs: _ft, ...finkRow } = rows[f]!;
        const { id: _c, timeMs: _ct, ...confluentRow } = rows[c]!;
        assert.deepEqual(confluentRow, finkRow, `the Confluent alert at offset ${c} shows as its fink twin at ${f}`);
        const [finkDetail, confluentDetail] = await Promise.all([f, c].map(async (o) => {
          const answer = await fetch(`${base}/api/alert/${encodeURIComponent(`${topic}:0:${o}`)}`);
          assert.equal(answer.status, 200);
          const { fields, lightCurve, cutouts, schema, survey } = await answer.json() as Record<string, unknown>;
          return { fields, lightCurve, cutouts, schema, survey };
        }));
        assert.deepEqual(confluentDetail, finkDetail, `offset ${c}: the same detail as offset ${f}`);
        // Its Avro file holds the datum alone, as sent, without the Confluent header.
        const avro = await fetch(`${base}/api/alert/${encodeURIComponent(`${topic}:0:${c}`)}/alert.avro`);
        const block = readContainer(Buffer.from(await avro.arrayBuffer())).blocks().next().value!;
        assert.deepEqual(Buffer.from(block.data), fink[f / 2]!.value);
      }

      const lastError = () => {
        const service = [...events].reverse().find((e) => e.type === 'service');
        return service?.type === 'service' ? service.topics.find((s) => s.topic === topic)?.lastError : undefined;
      };
      await waitFor('the unknown schema id counted and named on the page', () => /schema id 987654 is unknown/.test(lastError() ?? ''), { detail: () => String(lastError()) });
      assert.match(lastError()!, new RegExp(`^${topic}/0@4: schema id 987654 is unknown to the registry at http://127\\.0\\.0\\.1:\\d+/apis/ccompat/v7$`));
      // The panel's errors come with its next sample.
      const counted = () => {
        const service = [...events].reverse().find((e) => e.type === 'service');
        return service?.type === 'service' ? service.panel.errors.find((e) => e.kind === `console: undecodable on ${topic}`)?.count : undefined;
      };
      assert.equal(await waitFor('the undecodable message counted on the panel', counted, { detail: () => JSON.stringify(events.at(-1)) }), 1);
    } finally {
      controller.abort();
      await done;
      live.stop();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
