// A survey's stream for stream2science's tests: alerts as the surveys publish them (ZTF: each alert
// alone in an Avro container file; Rubin: the Confluent wire format), produced onto a test cluster
// with a plain producer, and a stream2science set-up of its own (science database, state folder).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Producer } from '@platformatic/kafka';
import { encodeContainerBlocks, readContainer } from '../../src/avro/container.ts';
import { loadConfig } from '../../src/config/config.ts';
import { kafkaClientOptions } from '../../src/kafka/client-options.ts';
import { ensureTopic } from '../../src/kafka/topics.ts';
import { decodeAlertFile, SchemaCache } from '../../src/sciencedb/decode.ts';
import { expandPaths } from '../../src/sciencedb/ingest.ts';
import { createSimulation } from '../../src/sciencedb/simulate.ts';
import { testEnv } from './cli.ts';
import { FINK_DATA, ZTF_DATA } from './data.ts';
import type { TestCluster } from './kafka.ts';
import { readStored } from './stored.ts';
import { tempDir } from './temp.ts';

/** An alert as upstream sends it: its id, its datum, and the message that carries it. */
export interface UpstreamAlert {
  alertId: bigint;
  datum: Buffer;
  message: Buffer;
}

/** A container file holding one datum, under the schema text of a header (kept as the survey wrote it). */
function containerOf(schemaText: string, datum: Uint8Array): Buffer {
  return encodeContainerBlocks(schemaText, 'null', [{ count: 1, body: datum }]);
}

/** The real ZTF alerts of ../shared/data, one per message, each under its own file's header schema. */
export function realZtfAlerts(): UpstreamAlert[] {
  const cache = new SchemaCache();
  return expandPaths([ZTF_DATA, FINK_DATA]).files.flatMap((file) => {
    const bytes = readFileSync(file);
    const { schemaText } = readContainer(bytes);
    return decodeAlertFile(bytes, cache).map((a) => ({ alertId: a.alertId, datum: Buffer.from(a.datum), message: containerOf(schemaText, a.datum) }));
  });
}

/** Simulated ZTF alerts of a night (with Fink's added values, as an enriched stream carries them), one per message. */
export function simulatedZtfAlerts(count: number, seed: number, night: string, profile: 'ztf' | 'ztf-light' = 'ztf-light'): UpstreamAlert[] {
  const simulation = createSimulation({ profile, seed, night });
  const text = JSON.stringify(simulation.fullSchema);
  return Array.from({ length: count }, () => {
    const a = simulation.next();
    const datum = Buffer.concat([a.datum, a.added!.datum]);
    return { alertId: a.alertId, datum, message: containerOf(text, datum) };
  });
}

export interface UpstreamProducer {
  /** Creates `topic` with `partitions` if needed and sends the values round-robin over them, in order within each. */
  send(topic: string, values: readonly Buffer[], options?: { partitions?: number; timestamp?: Date }): Promise<void>;
  close(): Promise<void>;
}

export function upstreamProducer(cluster: TestCluster): UpstreamProducer {
  const connection = kafkaClientOptions(loadConfig({ env: testEnv(cluster.env) }));
  // Idempotent: a send retried on a busy broker must not put a message upstream twice.
  const producer = new Producer({ clientId: 'fink-test-upstream', ...connection, idempotent: true, retries: 20, retryDelay: 500 });
  const created = new Set<string>();
  return {
    async send(topic, values, options = {}) {
      const partitions = options.partitions ?? 1;
      // Kept whatever their timestamps: tests send messages dated months back (a reset to a time), and
      // the managed brokers apply time retention within seconds (retention.check.interval.ms), which
      // would delete them under the test as soon as the check runs.
      if (!created.has(topic)) await ensureTopic(connection, topic, { partitions, replicationFactor: 1, configs: { 'retention.ms': '-1' } });
      created.add(topic);
      for (let i = 0; i < values.length; i += 100) {
        await producer.send({
          messages: values.slice(i, i + 100).map((value, j) => ({ topic, partition: (i + j) % partitions, value, ...(options.timestamp === undefined ? {} : { timestamp: BigInt(options.timestamp.getTime()) }) })),
        });
      }
    },
    close: () => producer.close(),
  };
}

/** One send with a producer of its own (see UpstreamProducer.send). */
export async function produceUpstream(cluster: TestCluster, topic: string, values: readonly Buffer[], options: { partitions?: number; timestamp?: Date } = {}): Promise<void> {
  const producer = upstreamProducer(cluster);
  try {
    await producer.send(topic, values, options);
  } finally {
    await producer.close();
  }
}

export interface Stream2ScienceSetup {
  env: Record<string, string>;
  scienceDb: string;
  stateDir: string;
}

/** A stream2science of its own on `cluster`: its science database, state folder and group, the topics of `topics`. */
export function stream2scienceSetup(cluster: TestCluster, topics: string, overrides: Record<string, string> = {}): Stream2ScienceSetup {
  const root = tempDir('stream2science');
  const scienceDb = join(root, 'science');
  const stateDir = join(root, 'state');
  const env = {
    ...cluster.env,
    UPSTREAM_SERVERS: cluster.bootstrap,
    UPSTREAM_TOPICS: topics,
    UPSTREAM_FORMAT: 'ztf',
    UPSTREAM_GROUP_ID: `test-${topics.replace(/\W/g, '')}`,
    UPSTREAM_TOPICS_REFRESH_MS: '500',
    SCIENCE_DB_PATH: scienceDb,
    UPSTREAM_STATE_DIR: stateDir,
    ...overrides,
  };
  return { env, scienceDb, stateDir };
}

/** Every stored alert's datum by id, and how many rows there are in all (a duplicate would show as more rows than ids). */
export function storedDatums(dir: string): { rows: number; byId: Map<bigint, Buffer> } {
  const stored = readStored(dir);
  return { rows: stored.length, byId: new Map(stored.map((a) => [a.alertId, Buffer.from(a.datum)])) };
}
