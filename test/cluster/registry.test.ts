import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeConfluent } from '../../src/avro/confluent-wire.ts';
import { parseAvroType } from '../../src/avro/schema.ts';
import { fetchSchemaById, registerSchema } from '../../src/avro/schema-registry.ts';
import { loadConfig, packageRoot } from '../../src/config/config.ts';
import { kafkaClientOptions } from '../../src/kafka/client-options.ts';
import { portIsFree } from '../../src/cluster/processes.ts';
import { registryLayout, registryPid, stopRegistry } from '../../src/cluster/registry.ts';
import { registrySettings } from '../../src/cluster/settings.ts';
import { readTopic } from '../../src/kafka/topic-reader.ts';
import { ensureTopic } from '../../src/kafka/topics.ts';
import { testEnv } from '../helpers/cli.ts';
import { decodeIndependently, haveLsstData, LSST_SAMPLES, LSST_VERSIONS } from '../helpers/data.ts';
import { withTestCluster, type TestCluster } from '../helpers/kafka.ts';
import { pythonOr, schemaRegistryPython } from '../helpers/python.ts';
import { startTestRegistry, type TestRegistry } from '../helpers/registry.ts';

// The managed schema registry (Apicurio, built once from registry/pom.xml), for real: its life,
// our client against it, and confluent-kafka's own Avro serializer against it.
describe('the managed schema registry', { timeout: 900_000 }, () => {
  let registry: TestRegistry;
  before(async () => {
    registry = await startTestRegistry();
  });
  after(async () => {
    await registry?.stop();
  });

  it('starts with a pid file, answers on 127.0.0.1 only, with no subject', async () => {
    const layout = registryLayout(registrySettings(loadConfig({ env: testEnv(registry.env) })));
    assert.equal(registryPid(layout), registry.pid);
    assert.ok(existsSync(layout.pidFile));
    const subjects = await (await fetch(`${registry.url}/subjects`)).json();
    assert.deepEqual(subjects, []);
    // Bound to 127.0.0.1, not every interface: another loopback address finds nothing there.
    await assert.rejects(fetch(`http://127.0.0.2:${layout.port}/apis/ccompat/v7/subjects`));
  });

  it('registers a schema and gives back the same text by its id; the same text twice is one id', async () => {
    const text = JSON.stringify({ type: 'record', name: 'probe', namespace: 'fink.test', fields: [{ name: 'id', type: 'long' }, { name: 'flux', type: ['null', 'float'], default: null }] });
    const id = await registerSchema(registry.url, 'probe-value', text);
    assert.equal(await fetchSchemaById(registry.url, id), text);
    assert.equal(await registerSchema(registry.url, 'probe-value', text), id);
    const other = JSON.stringify({ type: 'record', name: 'other', fields: [{ name: 'x', type: 'int' }] });
    const otherId = await registerSchema(registry.url, 'other-value', other);
    assert.notEqual(otherId, id);
    assert.equal(await fetchSchemaById(registry.url, otherId), other);
    await assert.rejects(fetchSchemaById(registry.url, 987654), /fetching schema id 987654: the schema registry answered 404/);
  });

  describe("Rubin's alerts serialized by confluent-kafka's AvroSerializer", () => {
    let cluster: TestCluster;
    withTestCluster((started) => {
      cluster = started;
    });

    it('are read back by our decoder with the schema that confluent-kafka registered, value for value', async (t) => {
      if (!haveLsstData(t)) return;
      const python = pythonOr(t, schemaRegistryPython());
      if (python === undefined) return;
      const config = loadConfig({ env: testEnv(cluster.env) });
      for (const [i, version] of LSST_VERSIONS.entries()) {
        const file = LSST_SAMPLES[i] as string;
        // Rubin's topics are named by the schema's major version.
        const topic = `lsst-alerts-${version.replace(/_\d+$/, '')}`;
        await ensureTopic(kafkaClientOptions(config, 'admin'), topic, { partitions: 1, replicationFactor: 1 });
        const produced: SpawnSyncReturns<string> = spawnSync(python, [join(packageRoot(), 'test', 'interop', 'confluent_avro_produce.py'), cluster.bootstrap, registry.url, topic, file], { encoding: 'utf8', timeout: 180_000 });
        assert.equal(produced.status, 0, produced.stderr);
        const registered = JSON.parse(produced.stdout.trim()) as { id: number; schema: string };
        const expected = (await decodeIndependently(file)).values;
        const values: unknown[] = [];
        for await (const message of readTopic(kafkaClientOptions(config), topic)) {
          const { schemaId, datum } = decodeConfluent(message.value as Buffer);
          assert.equal(schemaId, registered.id, `${topic}: the id confluent-kafka framed is the one it registered`);
          const text = await fetchSchemaById(registry.url, schemaId);
          assert.equal(text, registered.schema, `${topic}: fetchSchemaById gives the schema text confluent-kafka registered`);
          values.push(parseAvroType(JSON.parse(text)).fromBuffer(datum));
        }
        assert.equal(values.length, expected.length, `${topic}: every alert of ${file}`);
        // Plain values (structuredClone drops avsc's record classes, whose names follow each
        // parser's reading of the schema), compared strictly: bigints, float bits, bytes.
        assert.deepEqual(structuredClone(values), structuredClone(expected), `${topic}: the same values as the file`);
      }
    });
  });

  it('stops gracefully: the process is gone, its pid file and port released', async () => {
    const settings = registrySettings(loadConfig({ env: testEnv(registry.env) }));
    const layout = registryLayout(settings);
    assert.equal(await stopRegistry(settings), registry.pid);
    assert.equal(registryPid(layout), undefined);
    assert.equal(existsSync(layout.pidFile), false);
    assert.ok(await portIsFree('127.0.0.1', layout.port));
    assert.match(readFileSync(layout.logFile, 'utf8').slice(-5000), /stopped in/);
  });
});
