// stream2science on Rubin's framing (Confluent wire format: byte 0, a 4-byte schema id, the
// schemaless datum) beside a ZTF topic, formats chosen per topic pattern. The schemas come from the
// on-disk cache with the registry away (a restart while the registry is down); the live registry
// is tested with it (the simulator's Apicurio) where the two meet.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { encodeConfluent } from '../../src/avro/confluent-wire.ts';
import { SchemaCache } from '../../src/sciencedb/decode.ts';
import { silentLogger } from '../../src/log.ts';
import { decodeMessage } from '../../src/upstream/decode.ts';
import { RegistrySchemaCache } from '../../src/upstream/schema-cache.ts';
import { runCli } from '../helpers/cli.ts';
import { haveLsstData } from '../helpers/data.ts';
import { withTestCluster, type TestCluster } from '../helpers/kafka.ts';
import { tempDir } from '../helpers/temp.ts';
import { produceUpstream, simulatedZtfAlerts, storedDatums, stream2scienceSetup } from '../helpers/upstream.ts';
import { lsstMessagesOnePerId } from '../helpers/wire.ts';

/** A registry address nothing listens on: any call to it fails as unreachable. */
async function closedPort(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 1}`;
}

/** Rubin's samples and their variants, one per diaSourceId, each framed with the id of its schema; the cache of those ids on disk. */
function rubinUpstream(stateDir: string): { messages: Buffer[]; datums: Map<bigint, Buffer> } {
  const ids = new Map<string, number>();
  const messages: Buffer[] = [];
  const datums = new Map<bigint, Buffer>();
  mkdirSync(join(stateDir, 'schemas'), { recursive: true });
  for (const m of lsstMessagesOnePerId()) {
    const text = m.key.toString();
    let id = ids.get(text);
    if (id === undefined) {
      ids.set(text, (id = 100 + ids.size));
      writeFileSync(join(stateDir, 'schemas', `${id}.avsc`), text);
    }
    messages.push(encodeConfluent(id, m.value));
    datums.set(m.diaSourceId, m.value);
  }
  return { messages, datums };
}

let cluster: TestCluster;
withTestCluster((started) => {
  cluster = started;
});

test('Rubin alerts in the Confluent wire format and ZTF alerts, a format per topic pattern: stored once, bytes as sent, schemas from the disk cache while the registry is away', async (t) => {
  if (!haveLsstData(t)) return;
  const setup = stream2scienceSetup(cluster, 'rubin_alerts,ztf_20260120_.*', { UPSTREAM_FORMAT: 'rubin_.*=lsst,ztf_.*=ztf', UPSTREAM_SCHEMA_REGISTRY: await closedPort() });
  const rubin = rubinUpstream(setup.stateDir);
  const ztf = simulatedZtfAlerts(20, 21, '20260120');
  // One message whose first byte is not Confluent's magic byte: a dead letter.
  await produceUpstream(cluster, 'rubin_alerts', [...rubin.messages, Buffer.from([1, 0, 0, 0, 100, 2, 4])]);
  await produceUpstream(cluster, 'ztf_20260120_programid1', ztf.map((a) => a.message));
  const run = runCli('fink', ['start', 'stream2science', '--until-caught-up'], setup.env);
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, new RegExp(`stored ${rubin.datums.size + ztf.length} alerts from ${rubin.messages.length + ztf.length + 1} upstream messages`));
  const { rows, byId } = storedDatums(setup.scienceDb);
  assert.equal(rows, rubin.datums.size + ztf.length);
  for (const [id, datum] of [...rubin.datums, ...ztf.map((a) => [a.alertId, a.datum] as const)]) assert.ok(byId.get(id)?.equals(datum), `alert ${id} stored with its bytes`);
  const letters = readFileSync(join(setup.stateDir, 'dead-letters.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(letters.length, 1);
  assert.equal(letters[0]!.offset, String(rubin.messages.length));
  assert.match(String(letters[0]!.reason), /lsst format: a Confluent wire-format message starts with byte 0; this one starts with 1/);
});

test('schemas come from the disk cache with the registry away; without a registry an id not in the cache is a reason, not a stop', async (t) => {
  if (!haveLsstData(t)) return;
  const stateDir = tempDir('schema-cache');
  const rubin = rubinUpstream(stateDir);
  const cold = new RegistrySchemaCache(undefined, tempDir('schema-cache-empty'), { retries: 0, log: silentLogger });
  const decoded = await decodeMessage('lsst', rubin.messages[0]!, { schemas: new SchemaCache(), registry: cold });
  assert.ok('reason' in decoded);
  assert.match(decoded.reason, /schema id 100 is not in the cache and no UPSTREAM_SCHEMA_REGISTRY is set/);
  const warm = new RegistrySchemaCache(await closedPort(), stateDir, { retries: 0, log: silentLogger });
  for (const message of rubin.messages) {
    const out = await decodeMessage('lsst', message, { schemas: new SchemaCache(), registry: warm });
    assert.ok('alerts' in out, 'reason' in out ? out.reason : '');
    assert.equal(out.alerts[0]!.survey, 'lsst');
    assert.ok(rubin.datums.get(out.alerts[0]!.alertId)?.equals(out.alerts[0]!.datum));
  }
  // A datum followed by stray bytes is not an alert.
  const padded = Buffer.concat([rubin.messages[0]!, Buffer.from([0, 0])]);
  const out = await decodeMessage('lsst', padded, { schemas: new SchemaCache(), registry: warm });
  assert.ok('reason' in out);
  assert.match(out.reason, /schema id 100: 2 bytes after the alert/);
});
