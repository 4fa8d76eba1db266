// Confluent schema ids resolved once each: a real Apicurio registry behind a plain HTTP relay that
// counts the requests reaching it, and real alerts decoded through MessageDecoder as
// distribution_test (waiting) and the console (never waiting) decode them.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { encodeConfluent } from '../../src/avro/confluent-wire.ts';
import { readContainer } from '../../src/avro/container.ts';
import { parseAvroType, sanitizeSchema, type RecordSchema } from '../../src/avro/schema.ts';
import { registerSchema } from '../../src/avro/schema-registry.ts';
import { MessageDecoder } from '../../src/consumer/message-decoder.ts';
import { RegistrySchemas } from '../../src/consumer/registry-schemas.ts';
import { DecodeError } from '../../src/consumer/schema-file-decoder.ts';
import { haveRealData, ZTF_DATA } from '../helpers/data.ts';
import { startTestRegistry, type TestRegistry } from '../helpers/registry.ts';
import { startSchemaServer } from '../helpers/schema-server.ts';
import { tempDir } from '../helpers/temp.ts';
import { waitFor } from '../helpers/wait.ts';
import { realMessages } from '../helpers/wire.ts';

describe('schema ids through the registry, once each', { timeout: 300_000 }, () => {
  let registry: TestRegistry;
  let relay: Server;
  let relayUrl: string;
  /** Requests that reached the relay, by path. */
  const asked = new Map<string, number>();
  /** While set, the relay answers 503 itself, as a registry that is failing. */
  let failing = false;
  const schemaBase = join(tempDir('registry-schemas'), 'distribution_schema.avsc');

  before(async () => {
    registry = await startTestRegistry();
    const upstream = new URL(registry.url);
    relay = createServer((req, res) => {
      asked.set(req.url ?? '', (asked.get(req.url ?? '') ?? 0) + 1);
      if (failing) return void res.writeHead(503, { 'content-type': 'application/json' }).end('{"error_code":50300,"message":"down for a moment"}');
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

  test('a registry that fails: the id\'s error answered without asking for a short while, then the id asked again and decoded', async (t) => {
    if (!haveRealData(t)) return;
    const { id, value, record } = await registered('failing-value');
    const path = `/apis/ccompat/v7/schemas/ids/${id}`;
    const decoder = new MessageDecoder(schemaBase, new RegistrySchemas(relayUrl, { unavailableMs: 1000 }));
    const before = asked.get(path) ?? 0;
    failing = true;
    try {
      for (const offset of [0, 1]) {
        await assert.rejects(decoder.decode(null, value, `t/3@${offset}`), (err: unknown) => err instanceof DecodeError && err.message.startsWith(`t/3@${offset}: fetching schema id ${id}: the schema registry answered 503`));
      }
      assert.equal(asked.get(path), before + 1, 'the second message is answered with the error kept');
    } finally {
      failing = false;
    }
    const decoded = await waitFor('the id decoded once the registry answers again', () => decoder.decode(null, value, 't/3@2').catch(() => undefined));
    assert.deepEqual(structuredClone(decoded.record), structuredClone(record));
    assert.equal(asked.get(path), before + 2, 'asked again once, after the while');
  });

  test('an id whose schema is not a record (not an alert\'s) is an error naming the message and the id', async () => {
    const id = await registerSchema(registry.url, 'primitive-value', '"string"');
    const decoder = new MessageDecoder(schemaBase, relayUrl);
    await assert.rejects(decoder.decode(Buffer.from('x'), encodeConfluent(id, Buffer.from([2, 0x41])), 't/4@0'), (err: unknown) => err instanceof DecodeError && err.message === `t/4@0: schema id ${id}: the registry's text is not an alert's schema (not a record schema)`);
  });

  test('the ids kept are a bounded few (256): past them the oldest is forgotten and asked again', async () => {
    const decoder = new MessageDecoder(schemaBase, relayUrl);
    const unknown = (id: number) => decoder.decode(null, encodeConfluent(id, Buffer.from([2, 0x41])), `t/5@${id}`).then(() => assert.fail('decoded'), (err: unknown) => assert.ok(err instanceof DecodeError, String(err)));
    const first = 700_000;
    await unknown(first);
    await unknown(first);
    assert.equal(asked.get(`/apis/ccompat/v7/schemas/ids/${first}`), 1, 'kept while few ids are');
    for (let id = first + 1; id <= first + 256; id++) await unknown(id);
    await unknown(first);
    assert.equal(asked.get(`/apis/ccompat/v7/schemas/ids/${first}`), 2, 'forgotten after 256 other ids');
  });

  test('a Confluent datum cut short, or with bytes left over, is an error naming the message and the schema id', async (t) => {
    if (!haveRealData(t)) return;
    const { id, value } = await registered('datum-value');
    const decoder = new MessageDecoder(schemaBase, relayUrl);
    const short = value.subarray(0, value.length - 10);
    await assert.rejects(decoder.decode(null, short, 't/6@0'), (err: unknown) => err instanceof DecodeError && err.message.startsWith(`t/6@0: the value does not decode with schema id ${id} of the registry (`));
    const long = Buffer.concat([value, Buffer.from([1, 2, 3])]);
    await assert.rejects(decoder.decode(null, long, 't/6@1'), (err: unknown) => err instanceof DecodeError && err.message === `t/6@1: the value does not decode with schema id ${id} of the registry (3 bytes left over after the alert)`);
  });

  test('an older ZTF schema served as its file has it (defaults the Avro spec forbids, which Apicurio refuses to register but a registry may hold) is made valid, and its alert decodes', async (t) => {
    if (!haveRealData(t)) return;
    const container = readContainer(readFileSync(join(ZTF_DATA, '2019_01_10_739260766315010006.avro')));
    const datum = Buffer.from(container.blocks().next().value!.data);
    assert.throws(() => parseAvroType(container.schema as RecordSchema), 'the header as it is does not parse');
    const server = await startSchemaServer(new Map([[42, JSON.stringify(container.schema)]]));
    try {
      const decoded = await new MessageDecoder(schemaBase, server.url).decode(Buffer.from('ZTF19aaaaaaa'), encodeConfluent(42, datum), 't/7@0');
      const expected = parseAvroType(sanitizeSchema(container.schema as RecordSchema)).fromBuffer(datum);
      assert.deepEqual(structuredClone(decoded.record), structuredClone(expected));
      assert.equal((decoded.record as { candid: bigint }).candid, 739260766315010006n);
    } finally {
      await server.close();
    }
  });
});
