// A Rubin stream as Rubin's own alert system produces it: confluent-kafka's AvroSerializer (PyPI)
// against the managed schema registry, the Confluent wire format on the topic. stream2science
// ingests it: every alert stored once, its datum the very bytes confluent-kafka wrote, its values
// those of the sample file it came from.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { decodeConfluent } from '../../src/avro/confluent-wire.ts';
import { parseAvroType, sanitizeSchema } from '../../src/avro/schema.ts';
import { loadConfig, packageRoot } from '../../src/config/config.ts';
import { kafkaClientOptions } from '../../src/kafka/client-options.ts';
import { readTopic } from '../../src/kafka/topic-reader.ts';
import { ensureTopic } from '../../src/kafka/topics.ts';
import { runCli, testEnv } from '../helpers/cli.ts';
import { decodeIndependently, haveLsstData, LSST_SAMPLES } from '../helpers/data.ts';
import type { TestCluster } from '../helpers/kafka.ts';
import { pythonOr, schemaRegistryPython } from '../helpers/python.ts';
import { withClusterAndRegistry, type TestRegistry } from '../helpers/registry.ts';
import { storedDatums, stream2scienceSetup } from '../helpers/upstream.ts';

const TOPIC = 'lsst-alerts-confluent';
/** Each sample goes this many times, the n-th alert sent with its diaSourceId moved by n * COPY_STRIDE (the samples share one id). */
const COPIES = 20;
const COPY_STRIDE = 1_000_003n;

describe('a Rubin stream produced by confluent-kafka, into stream2science', { timeout: 900_000 }, () => {
  let cluster: TestCluster;
  let registry: TestRegistry;
  withClusterAndRegistry((c, r) => void ([cluster, registry] = [c, r]));

  test("Rubin's samples serialized by confluent-kafka's AvroSerializer are stored once each, with the bytes it wrote and the values of their files", async (t) => {
    if (!haveLsstData(t)) return;
    const python = pythonOr(t, schemaRegistryPython());
    if (python === undefined) return;
    const config = loadConfig({ env: testEnv(cluster.env) });
    await ensureTopic(kafkaClientOptions(config, 'admin'), TOPIC, { partitions: 2, replicationFactor: 1 });
    // Three schema versions on one topic, as a survey changing its schema mid-stream would send them.
    const produced = spawnSync(python, [join(packageRoot(), 'test', 'interop', 'confluent_avro_produce.py'), cluster.bootstrap, registry.url, TOPIC, '--copies', String(COPIES), ...LSST_SAMPLES], { encoding: 'utf8', timeout: 300_000 });
    assert.equal(produced.status, 0, produced.stderr);

    const setup = stream2scienceSetup(cluster, TOPIC, { UPSTREAM_FORMAT: 'lsst', UPSTREAM_SCHEMA_REGISTRY: registry.url });
    const run = runCli('fink', ['start', 'stream2science', '--until-caught-up'], setup.env);
    assert.equal(run.status, 0, `stream2science failed:\n${run.stdout}\n${run.stderr}`);

    const sent: Buffer[] = [];
    const schemaIds = new Set<number>();
    for await (const m of readTopic(kafkaClientOptions(config), TOPIC)) {
      const { schemaId, datum } = decodeConfluent(m.value!);
      schemaIds.add(schemaId);
      sent.push(Buffer.from(datum));
    }
    assert.equal(schemaIds.size, LSST_SAMPLES.length, 'the messages name one registered schema per version');
    const byFile = await Promise.all(LSST_SAMPLES.map(decodeIndependently));
    let n = 0n;
    const perFile = byFile.map((d) => d.values.flatMap((v) => Array.from({ length: COPIES }, () => shifted(v, n++))));
    const expected = perFile.flat();
    assert.equal(sent.length, expected.length, 'every alert of the files is on the topic');

    const { rows, byId } = storedDatums(setup.scienceDb);
    assert.equal(rows, expected.length, 'one row per alert sent');
    assert.equal(byId.size, expected.length, 'every alert stored, none twice');
    const stored = [...byId.values()];
    for (const datum of sent) assert.ok(stored.some((s) => s.equals(datum)), 'a datum stored with the bytes confluent-kafka wrote');
    // Values: each stored datum decoded with the writer schema of its file equals that file's alert.
    for (const [i, file] of byFile.entries()) {
      const type = parseAvroType(sanitizeSchema(file.schema));
      for (const value of perFile[i]!) {
        const id = (value as { diaSourceId: bigint }).diaSourceId;
        const datum = byId.get(id);
        assert.ok(datum !== undefined, `${LSST_SAMPLES[i]}: alert ${id} stored`);
        assert.deepEqual(structuredClone(type.fromBuffer(datum)), structuredClone(value), `${LSST_SAMPLES[i]}: alert ${id} with its values`);
      }
    }
    assert.match(run.stdout + run.stderr, new RegExp(`stored ${expected.length} alerts from ${expected.length} upstream messages`));
  });
});

/** The n-th alert the producer sends: its diaSourceId (top level and in diaSource) raised by n * COPY_STRIDE. */
function shifted(value: Record<string, unknown>, n: bigint): Record<string, unknown> {
  const copy: Record<string, unknown> = structuredClone(value);
  copy.diaSourceId = (value.diaSourceId as bigint) + n * COPY_STRIDE;
  const source = copy.diaSource as Record<string, unknown> | null;
  if (source !== null && typeof source === 'object' && 'diaSourceId' in source) source.diaSourceId = (source.diaSourceId as bigint) + n * COPY_STRIDE;
  return copy;
}
