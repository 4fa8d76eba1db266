// Compatibility across a survey's major versions, against the project's real Apicurio registry (no
// broker: what is checked is what the distribution asks the registry before a batch's first send).
// Rubin's v9 -> v10 -> v11 break BACKWARD on purpose: registered under BACKWARD, the check lifted
// for each new major version only; a break within a major version is still refused.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { readContainer } from '../../src/avro/container.ts';
import { registerSchema, RegistryError } from '../../src/avro/schema-registry.ts';
import { parseAvroType, schemaFingerprint, type RecordSchema } from '../../src/avro/schema.ts';
import { loadConfig } from '../../src/config/config.ts';
import type { Batch } from '../../src/distribution/batch.ts';
import { ConfluentTopics } from '../../src/distribution/confluent-format.ts';
import { distributionSettings, type FormatSettings } from '../../src/distribution/settings.ts';
import type { WireSchema } from '../../src/distribution/wire.ts';
import type { Logger } from '../../src/log.ts';
import { testEnv } from '../helpers/cli.ts';
import { haveLsstData, LSST_SAMPLES } from '../helpers/data.ts';
import { startTestRegistry, type TestRegistry } from '../helpers/registry.ts';

/** The writer schemas of the Rubin samples v9, v10, v11 (whole: their named types inline). */
const rubin = () => LSST_SAMPLES.map((file) => readContainer(readFileSync(file)).schema as RecordSchema);

function wireOf(schema: RecordSchema): WireSchema {
  const type = parseAvroType(schema);
  return { schema, type, fingerprint: schemaFingerprint(type), key: Buffer.from(JSON.stringify(schema)), encode: () => Buffer.alloc(0) };
}

function batchOf(topic: string, schema: RecordSchema): Batch {
  return { messages: [], schemas: [{ wire: wireOf(schema), topic, selecting: false }], filterErrors: [], oversize: [], unstamped: [] };
}

/** The same schema with one more field and no default: a BACKWARD break within its major version. */
const withExtra = (schema: RecordSchema): RecordSchema => ({ ...schema, fields: [...schema.fields, { name: 'fink_extra', type: 'int' }] });

describe('compatibility across a survey\'s major versions', { timeout: 300_000 }, () => {
  let registry: TestRegistry;
  let format: FormatSettings;
  const lines: string[] = [];
  const log: Logger = (_level, message) => lines.push(message);
  const get = async (path: string) => (await fetch(`${registry.url}${path}`)).json() as Promise<unknown>;
  const levelOf = async (subject: string) => {
    const config = (await get(`/config/${subject}`)) as { compatibilityLevel?: string; compatibility?: string };
    return config.compatibilityLevel ?? config.compatibility;
  };
  before(async () => {
    registry = await startTestRegistry();
    format = distributionSettings(loadConfig({ env: testEnv({ DISTRIBUTION_FORMAT: 'confluent', DISTRIBUTION_SCHEMA_REGISTRY: registry.url }) })).format;
    assert.equal(format.compatibility, 'BACKWARD', 'the default level');
  });
  after(async () => {
    await registry?.stop();
  });

  test('the Rubin samples break BACKWARD from one major version to the next (what the registry refuses without the lift)', async (t) => {
    if (!haveLsstData(t)) return;
    const [v9, v10] = rubin();
    const topics = new ConfluentTopics(format, log);
    await topics.prepare(batchOf('raw_lsst', v9!));
    await assert.rejects(registerSchema(registry.url, 'raw_lsst-value', JSON.stringify(v10)), (err) => err instanceof RegistryError && err.status === 409);
  });

  test('Rubin v9 -> v10 -> v11 on one subject under BACKWARD: three versions, one line per new major version, the subject BACKWARD after', async (t) => {
    if (!haveLsstData(t)) return;
    lines.length = 0;
    const topics = new ConfluentTopics(format, log);
    for (const schema of rubin()) await topics.prepare(batchOf('majors_lsst', schema));
    assert.deepEqual(await get('/subjects/majors_lsst-value/versions'), [1, 2, 3]);
    assert.equal(await levelOf('majors_lsst-value'), 'BACKWARD');
    assert.deepEqual(lines.filter((l) => l.startsWith('new major version')), [
      'new major version 10 of the Rubin schema on majors_lsst: registered without the compatibility check, BACKWARD again after it',
      'new major version 11 of the Rubin schema on majors_lsst: registered without the compatibility check, BACKWARD again after it',
    ]);
    for (const [i, schema] of rubin().entries()) assert.equal(typeof topics.idOf('majors_lsst', wireOf(schema)), 'number', `an id for v${i + 9}`);
  });

  test('a BACKWARD break within major version 11, after the lift for 11: refused, naming the field, the subject still BACKWARD', async (t) => {
    if (!haveLsstData(t)) return;
    const [, v10, v11] = rubin();
    const topics = new ConfluentTopics(format, log);
    await topics.prepare(batchOf('within_lsst', v10!));
    await topics.prepare(batchOf('within_lsst', v11!));
    await assert.rejects(topics.prepare(batchOf('within_lsst', withExtra(v11!))), /refused a new schema of topic within_lsst \(subject within_lsst-value, field fink_extra\)/);
    assert.deepEqual(await get('/subjects/within_lsst-value/versions'), [1, 2]);
    assert.equal(await levelOf('within_lsst-value'), 'BACKWARD');
  });

  test("a run that finds the subject already there learns its latest version's major from the registry: v11 after another run's v10 is registered, a break of v10 refused", async (t) => {
    if (!haveLsstData(t)) return;
    const [v9, v10, v11] = rubin();
    const first = new ConfluentTopics(format, log);
    await first.prepare(batchOf('later_lsst', v9!));
    await first.prepare(batchOf('later_lsst', v10!));
    await assert.rejects(new ConfluentTopics(format, log).prepare(batchOf('later_lsst', withExtra(v10!))), /field fink_extra/);
    await new ConfluentTopics(format, log).prepare(batchOf('later_lsst', v11!));
    assert.deepEqual(await get('/subjects/later_lsst-value/versions'), [1, 2, 3]);
    assert.equal(await levelOf('later_lsst-value'), 'BACKWARD');
  });

  test('an older major version the subject already holds (a replay) gets its id back: nothing lifted, no line logged', async (t) => {
    if (!haveLsstData(t)) return;
    const [v9, v10] = rubin();
    const first = new ConfluentTopics(format, log);
    await first.prepare(batchOf('replay_lsst', v9!));
    await first.prepare(batchOf('replay_lsst', v10!));
    lines.length = 0;
    const again = new ConfluentTopics(format, log);
    await again.prepare(batchOf('replay_lsst', v9!));
    assert.equal(again.idOf('replay_lsst', wireOf(v9!)), first.idOf('replay_lsst', wireOf(v9!)));
    assert.equal(lines.some((l) => l.startsWith('new major version')), false, lines.join('\n'));
    assert.deepEqual(await get('/subjects/replay_lsst-value/versions'), [1, 2]);
    assert.equal(await levelOf('replay_lsst-value'), 'BACKWARD');
  });

  test('a level set on the subject by hand is the one put back: FORWARD stays FORWARD; a subject at NONE is registered as it is, no line logged', async (t) => {
    if (!haveLsstData(t)) return;
    const [v9, v10, v11] = rubin();
    const topics = new ConfluentTopics(format, log);
    await topics.prepare(batchOf('hand_lsst', v9!));
    await fetch(`${registry.url}/config/hand_lsst-value`, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ compatibility: 'FORWARD' }) });
    lines.length = 0;
    await topics.prepare(batchOf('hand_lsst', v10!));
    assert.equal(await levelOf('hand_lsst-value'), 'FORWARD');
    assert.match(lines.find((l) => l.startsWith('new major version')) ?? '', /new major version 10 of the Rubin schema on hand_lsst: .*, FORWARD again after it/);
    await fetch(`${registry.url}/config/hand_lsst-value`, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ compatibility: 'NONE' }) });
    lines.length = 0;
    await topics.prepare(batchOf('hand_lsst', v11!));
    assert.equal(await levelOf('hand_lsst-value'), 'NONE');
    assert.equal(lines.some((l) => l.startsWith('new major version')), false);
    assert.deepEqual(await get('/subjects/hand_lsst-value/versions'), [1, 2, 3]);
  });

  test('under level NONE nothing is lifted, and nothing logged', async (t) => {
    if (!haveLsstData(t)) return;
    lines.length = 0;
    const none = { ...format, compatibility: 'NONE' };
    const topics = new ConfluentTopics(none, log);
    for (const schema of rubin()) await topics.prepare(batchOf('none_lsst', schema));
    assert.deepEqual(await get('/subjects/none_lsst-value/versions'), [1, 2, 3]);
    assert.equal(lines.some((l) => l.startsWith('new major version')), false);
  });
});
