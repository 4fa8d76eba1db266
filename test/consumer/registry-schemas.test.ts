// Confluent schema ids resolved once each: a real Apicurio registry behind a plain HTTP relay that
// counts the requests reaching it, and real alerts decoded through MessageDecoder as
// distribution_test (waiting) and the console (never waiting) decode them.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { encodeConfluent } from '../../src/avro/confluent-wire.ts';
import { parseAvroType, type RecordSchema } from '../../src/avro/schema.ts';
import { registerSchema } from '../../src/avro/schema-registry.ts';
import { MessageDecoder } from '../../src/consumer/message-decoder.ts';
import { DecodeError } from '../../src/consumer/schema-file-decoder.ts';
import { haveRealData } from '../helpers/data.ts';
import { startTestRegistry, type TestRegistry } from '../helpers/registry.ts';
import { tempDir } from '../helpers/temp.ts';
import { waitFor } from '../helpers/wait.ts';
import { realMessages } from '../helpers/wire.ts';

describe('schema ids through the registry, once each', { timeout: 300_000 }, () => {
  let registry: TestRegistry;
  let relay: Server;
  let relayUrl: string;
  /** Requests that reached the registry through the relay, by path. */
  const asked = new Map<string, number>();
  const schemaBase = join(tempDir('registry-schemas'), 'distribution_schema.avsc');

  before(async () => {
    registry = await startTestRegistry();
    const upstream = new URL(registry.url);
    relay = createServer((req, res) => {
      asked.set(req.url ?? '', (asked.get(req.url ?? '') ?? 0) + 1);
      fetch(`${upstream.origin}${req.url ?? ''}`, { headers: { accept: req.headers.accept ?? '*/*' } }).then(async (answer) => {
        res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
        res.end(Buffer.from(await answer.arrayBuffer()));
      }, () => res.writeHead(502).end());
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    relayUrl = `http://127.0.0.1:${(relay.address() as AddressInfo).port}${upstream.pathname}`;
  });
  after(async () => {
    relay?.closeAllConnections();
    await new Promise((resolve) => relay?.close(resolve));
    await registry?.stop();
  });

  /** A real ZTF alert in the Confluent format with its schema registered, and its record as its own schema decodes it. */
  async function registered(subject: string): Promise<{ id: number; value: Buffer; record: unknown }> {
    const [alert] = realMessages();
    const id = await registerSchema(registry.url, subject, alert!.key.toString());
    return { id, value: encodeConfluent(id, alert!.value), record: parseAvroType(JSON.parse(alert!.key.toString()) as RecordSchema).fromBuffer(alert!.value) };
  }

  test('an id carried by 150 messages, 100 of them decoded at once, is asked of the registry once; each record exact', async (t) => {
    if (!haveRealData(t)) return;
    const { id, value, record } = await registered('once-value');
    const decoder = new MessageDecoder(schemaBase, relayUrl);
    const key = Buffer.from('ZTF18aaaaaaa');
    const atOnce = await Promise.all(Array.from({ length: 100 }, (_, i) => decoder.decode(key, value, `t/0@${i}`)));
    for (let i = 100; i < 150; i++) atOnce.push(await decoder.decode(key, value, `t/0@${i}`));
    assert.equal(asked.get(`/apis/ccompat/v7/schemas/ids/${id}`), 1);
    for (const decoded of atOnce) {
      assert.equal(decoded.format, 'confluent');
      assert.equal(decoded.schemaId, id);
      assert.deepEqual(structuredClone(decoded.record), structuredClone(record));
    }
  });

  test('an unknown id is asked once while its failure is remembered, and every message carrying it is an error naming it', async (t) => {
    if (!haveRealData(t)) return;
    const { value } = await registered('unknown-value');
    const unknownValue = encodeConfluent(876_543, value.subarray(5));
    const decoder = new MessageDecoder(schemaBase, relayUrl);
    for (let i = 0; i < 20; i++) {
      await assert.rejects(decoder.decode(null, unknownValue, `t/1@${i}`), (err: unknown) => err instanceof DecodeError && new RegExp(`^t/1@${i}: schema id 876543 is unknown to the registry`).test(err.message));
    }
    assert.equal(asked.get('/apis/ccompat/v7/schemas/ids/876543'), 1);
  });

  test('decodeNow, the console\'s way, never waits: nothing while the id is asked, the record once the registry answered, asked once', async (t) => {
    if (!haveRealData(t)) return;
    const { id, value, record } = await registered('now-value');
    // A fresh decoder: the id is not known to it yet (the relay's count starts from what the other tests asked).
    const before = asked.get(`/apis/ccompat/v7/schemas/ids/${id}`) ?? 0;
    const decoder = new MessageDecoder(schemaBase, relayUrl);
    assert.equal(decoder.decodeNow(null, value, 't/2@0'), undefined, 'the first call returns at once, the id being asked');
    const decoded = await waitFor('the schema at hand', () => decoder.decodeNow(null, value, 't/2@1'));
    assert.deepEqual(structuredClone(decoded.record), structuredClone(record));
    assert.equal(asked.get(`/apis/ccompat/v7/schemas/ids/${id}`), before + 1);
  });
});
