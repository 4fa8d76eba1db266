// `fink start distribution_test` on what a Confluent producer writes: Rubin's sample alerts
// serialized by confluent-kafka's own AvroSerializer (PyPI) against a real Apicurio registry (no
// key, the Confluent wire format), read back and saved: each alert's values those of its file.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { readContainer } from '../../src/avro/container.ts';
import { parseAvroType } from '../../src/avro/schema.ts';
import { packageRoot } from '../../src/config/config.ts';
import { kafkaClientOptions } from '../../src/kafka/client-options.ts';
import { ensureTopic } from '../../src/kafka/topics.ts';
import { runCli } from '../helpers/cli.ts';
import { decodeIndependently, haveLsstData, LSST_SAMPLES } from '../helpers/data.ts';
import { distributionSetup } from '../helpers/distribution.ts';
import type { TestCluster } from '../helpers/kafka.ts';
import { pythonOr, schemaRegistryPython } from '../helpers/python.ts';
import { withClusterAndRegistry, type TestRegistry } from '../helpers/registry.ts';
import { tempDir } from '../helpers/temp.ts';

const TOPIC = 'confluent_kafka_serialized';

describe('fink start distribution_test on messages of confluent-kafka\'s AvroSerializer', { timeout: 900_000 }, () => {
  let cluster: TestCluster;
  let registry: TestRegistry;
  withClusterAndRegistry((c, r) => void ([cluster, registry] = [c, r]));

  test('every alert decoded through the registry and saved with the values of its sample file', async (t) => {
    if (!haveLsstData(t)) return;
    const python = pythonOr(t, schemaRegistryPython());
    if (python === undefined) return;
    const setup = distributionSetup(cluster, { DISTRIBUTION_SCHEMA_REGISTRY: registry.url });
    await ensureTopic(kafkaClientOptions(setup.config, 'admin'), TOPIC, { partitions: 1, replicationFactor: 1 });
    const produced = spawnSync(python, [join(packageRoot(), 'test', 'interop', 'confluent_avro_produce.py'), cluster.bootstrap, registry.url, TOPIC, ...LSST_SAMPLES], { encoding: 'utf8', timeout: 300_000 });
    assert.equal(produced.status, 0, produced.stderr);

    const out = join(tempDir('confluent-kafka-saved'), 'alerts.avro');
    const run = runCli('fink', ['start', 'distribution_test', '--topic', TOPIC, '--out', out], setup.env);
    assert.equal(run.status, 0, run.stderr);
    const byFile = await Promise.all(LSST_SAMPLES.map(decodeIndependently));
    const total = byFile.reduce((n, f) => n + f.values.length, 0);
    assert.match(run.stdout, new RegExp(`${total} alerts read from topic ${TOPIC} in [0-9.]+ s, all decoded with their schemas from the registry`));
    // One file per schema (one per sample file, in the order sent): the first at `out`, the others beside it.
    const saved = [...run.stdout.matchAll(/saved (\d+) alerts to (\S+)/g)].map((m) => m[2]!);
    assert.equal(saved[0], out);
    assert.equal(saved.length, LSST_SAMPLES.length, run.stdout);
    saved.forEach((file, i) => {
      const container = readContainer(readFileSync(file));
      const type = parseAvroType(container.schema);
      const values = [...container.blocks()].flatMap((b) => {
        const out: unknown[] = [];
        for (let pos = 0; pos < b.data.length;) {
          const { value, offset } = type.decode(b.data, pos);
          out.push(value);
          pos = offset;
        }
        return out;
      });
      assert.deepEqual(structuredClone(values), structuredClone(byFile[i]!.values), `${file}: the alerts of ${LSST_SAMPLES[i]}`);
    });
  });
});
