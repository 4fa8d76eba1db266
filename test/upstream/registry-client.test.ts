// The schema registry client as stream2science uses it, against a small real HTTP server on
// 127.0.0.1 that misbehaves as a wrong URL, a proxy, a slow or huge answer or a hostile registry
// would: only Confluent's 40403 makes an id unknown, every request is bounded and stoppable, a
// schema is checked before it is cached, and credentials never show.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { after, before, test } from 'node:test';
import { encodeConfluent } from '../../src/avro/confluent-wire.ts';
import { probeRegistry } from '../../src/avro/schema-registry.ts';
import { formatLine, type Logger } from '../../src/log.ts';
import { SchemaCache } from '../../src/sciencedb/decode.ts';
import { createSimulation } from '../../src/sciencedb/simulate.ts';
import { decodeMessage } from '../../src/upstream/decode.ts';
import { RegistryMisconfiguredError, RegistrySchemaCache, UnknownSchemaError } from '../../src/upstream/schema-cache.ts';
import { startTestRegistry } from '../helpers/registry.ts';
import { tempDir } from '../helpers/temp.ts';
import { waitFor } from '../helpers/wait.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

let server: Server;
let port = 0;
let handler: Handler = (_req, res) => res.end();
before(async () => {
  server = createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  port = typeof address === 'object' && address !== null ? address.port : 0;
});
after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** A real alert schema's text (the simulator's ZTF schema). */
const SCHEMA_TEXT = JSON.stringify(createSimulation({ profile: 'ztf-light', seed: 1, night: '20260120' }).fullSchema);

function lines(): { log: Logger; text: () => string } {
  const out: string[] = [];
  return { log: (level, message, fields) => out.push(formatLine(level, message, fields)), text: () => out.join('\n') };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/vnd.schemaregistry.v1+json' });
  res.end(JSON.stringify(body));
}

test('a 404 without error_code 40403 (a wrong URL, a proxy path) is a misconfiguration: said, waited on until the stop, never an unknown schema', async () => {
  handler = (_req, res) => {
    res.writeHead(404, { 'Content-Type': 'text/html' });
    res.end('<html>Not Found</html>');
  };
  const { log, text } = lines();
  const stop = new AbortController();
  const cache = new RegistrySchemaCache(`http://127.0.0.1:${port}/wrong`, tempDir('registry-404'), { retries: 0, firstDelayMs: 20, maxDelayMs: 50, log, signal: stop.signal });
  let settled: unknown = 'pending';
  const asked = cache.text(7).then((t) => (settled = t), (err: unknown) => (settled = err));
  await waitFor('the misconfiguration said', () => text().includes('answers 404 without Confluent\'s error_code 40403'), { detail: text });
  assert.equal(settled, 'pending', 'still waiting for the registry, not a dead letter');
  stop.abort();
  await asked;
  const err = settled as unknown as Error;
  assert.ok(!(err instanceof UnknownSchemaError), String(err));
  assert.match(err.message, /stopped while waiting for schema id 7/);
});

test('a one-off run stops on a 404 without 40403 with the line that says so', async () => {
  handler = (_req, res) => json(res, 404, { message: 'no route' });
  const cache = new RegistrySchemaCache(`http://127.0.0.1:${port}/wrong`, tempDir('registry-404-once'), { retries: 0, firstDelayMs: 20, log: () => {}, stopOnMisconfiguration: true });
  await assert.rejects(cache.text(7), (err: Error) => err instanceof RegistryMisconfiguredError && /404 without Confluent's error_code 40403 .*check UPSTREAM_SCHEMA_REGISTRY/.test(err.message));
});

test('an id the registry says it does not have (40403) is an unknown schema after the retries', async () => {
  handler = (_req, res) => json(res, 404, { error_code: 40403, message: 'Schema not found' });
  const cache = new RegistrySchemaCache(`http://127.0.0.1:${port}`, tempDir('registry-40403'), { retries: 1, firstDelayMs: 20, log: () => {} });
  await assert.rejects(cache.text(7), (err: Error) => err instanceof UnknownSchemaError && /asked 2 times/.test(err.message));
});

test('a registry that does not answer: the request times out, the wait is said, and the stop ends it', async () => {
  const held: ServerResponse[] = [];
  handler = (_req, res) => held.push(res);
  const { log, text } = lines();
  const stop = new AbortController();
  const cache = new RegistrySchemaCache(`http://127.0.0.1:${port}`, tempDir('registry-slow'), { retries: 0, timeoutMs: 300, firstDelayMs: 20, maxDelayMs: 50, log, signal: stop.signal });
  const asked = cache.text(7).catch((err: unknown) => err);
  await waitFor('the timeout said', () => text().includes('did not answer within 0.3 s'), { detail: text });
  stop.abort();
  assert.match(String(await asked), /stopped while waiting for schema id 7/);
  for (const res of held) res.destroy();
});

test('the stop cancels a request in flight (no timeout of its own needed)', async () => {
  const held: ServerResponse[] = [];
  handler = (_req, res) => held.push(res);
  const stop = new AbortController();
  const cache = new RegistrySchemaCache(`http://127.0.0.1:${port}`, tempDir('registry-stop'), { retries: 0, log: () => {}, signal: stop.signal });
  let settled: unknown = 'pending';
  const asked = cache.text(7).then((t) => (settled = t), (err: unknown) => (settled = err));
  await waitFor('the request at the server', () => held.length > 0);
  stop.abort();
  await waitFor('the request cancelled', () => settled !== 'pending', { timeoutMs: 20_000 });
  await asked;
  assert.match(String(settled), /stopped while waiting for schema id 7/);
  for (const res of held) res.destroy();
});

test('an answer over the size cap is refused, declared or streamed, and nothing is cached', async () => {
  const { log, text } = lines();
  for (const declared of [true, false]) {
    const chunk = Buffer.alloc(1 << 20, 0x20);
    handler = (_req, res) => {
      res.writeHead(200, declared ? { 'Content-Length': String(64 * chunk.length) } : {});
      let sent = 0;
      const more = (): void => {
        while (sent < 64 && res.write(chunk)) sent++;
        if (sent >= 64) res.end();
        else res.once('drain', more);
      };
      res.on('error', () => {});
      more();
    };
    const stop = new AbortController();
    const state = tempDir('registry-huge');
    const cache = new RegistrySchemaCache(`http://127.0.0.1:${port}`, state, { retries: 0, maxBytes: 4 << 20, firstDelayMs: 20, maxDelayMs: 50, log, signal: stop.signal });
    const asked = cache.text(7).catch((err: unknown) => err);
    await waitFor('the cap said', () => /over the cap of 4194304|goes over the cap of 4194304 bytes/.test(text()), { detail: text });
    stop.abort();
    await asked;
    assert.equal(existsSync(cache.file(7)), false);
  }
});

test('a hostile schema (not a record, not JSON) is its message\'s dead letter and is not cached', async () => {
  for (const schema of ['{"type":"string"}', '{not json', '"null"']) {
    handler = (_req, res) => json(res, 200, { schema });
    const registry = new RegistrySchemaCache(`http://127.0.0.1:${port}`, tempDir('registry-hostile'), { retries: 0, log: () => {} });
    const out = await decodeMessage('lsst', encodeConfluent(7, Buffer.from([2, 4])), { schemas: new SchemaCache(), registry });
    assert.ok('reason' in out, schema);
    assert.match(out.reason, /schema id 7/);
    assert.equal(existsSync(registry.file(7)), false, `${schema}: not cached`);
  }
});

test('a cached schema file that fails the check is a miss: asked of the registry and replaced', async () => {
  handler = (_req, res) => json(res, 200, { schema: SCHEMA_TEXT });
  const state = tempDir('registry-torn');
  const registry = new RegistrySchemaCache(`http://127.0.0.1:${port}`, state, { retries: 0, log: () => {} });
  mkdirSync(`${state}/schemas`, { recursive: true });
  writeFileSync(registry.file(7), SCHEMA_TEXT.slice(0, 100)); // a torn write
  assert.equal(await registry.text(7), SCHEMA_TEXT);
  assert.equal(readFileSync(registry.file(7), 'utf8'), SCHEMA_TEXT);
});

test('a registry URL with credentials: sent as Basic authentication, never in a log line or a reason', async () => {
  let authorization: string | undefined;
  handler = (req, res) => {
    authorization = req.headers.authorization;
    json(res, 500, { error_code: 50001, message: 'busy' });
  };
  const { log, text } = lines();
  const stop = new AbortController();
  const cache = new RegistrySchemaCache(`http://reader:s3cr3t-pw@127.0.0.1:${port}`, tempDir('registry-creds'), { retries: 0, firstDelayMs: 20, maxDelayMs: 50, log, signal: stop.signal });
  const asked = cache.text(7).catch((err: unknown) => err);
  await waitFor('the wait said', () => text().includes('schema registry unavailable'), { detail: text });
  stop.abort();
  const err = await asked;
  assert.equal(authorization, `Basic ${Buffer.from('reader:s3cr3t-pw').toString('base64')}`);
  assert.doesNotMatch(text(), /s3cr3t/);
  assert.doesNotMatch(String(err), /s3cr3t/);
  assert.match(text(), /\*\*\*@127\.0\.0\.1/);
});

test('the probe says when the URL is not a registry\'s', async () => {
  handler = (_req, res) => json(res, 200, { hello: 'world' });
  await assert.rejects(probeRegistry(`http://u:pw@127.0.0.1:${port}/x`), (err: Error) => /is this a schema registry's URL\?/.test(err.message) && !err.message.includes(':pw@'));
  handler = (_req, res) => json(res, 200, ['a-value']);
  await probeRegistry(`http://127.0.0.1:${port}/x`);
});

test('the managed registry (Apicurio\'s Confluent API): an id it does not have is unknown (40403), its root path is a misconfiguration', async () => {
  const registry = await startTestRegistry();
  try {
    await probeRegistry(registry.url);
    const unknown = new RegistrySchemaCache(registry.url, tempDir('registry-managed'), { retries: 0, log: () => {} });
    await assert.rejects(unknown.text(987654), UnknownSchemaError);
    const wrong = new RegistrySchemaCache(registry.url.replace(/\/apis\/ccompat\/v7$/, '/nothing'), tempDir('registry-managed-wrong'), { retries: 0, log: () => {}, stopOnMisconfiguration: true });
    await assert.rejects(wrong.text(987654), RegistryMisconfiguredError);
  } finally {
    await registry.stop();
  }
});
