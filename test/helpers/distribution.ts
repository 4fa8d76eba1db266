// A distribution set-up for a test: its own science database, schema folder, state folder and
// service id, on a test cluster; and the ways tests read back what went out.
import { join } from 'node:path';
import { loadConfig, type Config } from '../../src/config/config.ts';
import { readTopic, type ConsumedMessage } from '../../src/kafka/topic-reader.ts';
import { parseAvroType, type AvroType } from '../../src/avro/schema.ts';
import { readCheckpoint } from '../../src/distribution/checkpoint.ts';
import { spawnFink, testEnv, type FinkProcess } from './cli.ts';
import { tempDir } from './temp.ts';
import { waitFor } from './wait.ts';
import type { TestCluster } from './kafka.ts';
import { kafkaClientOptions } from '../../src/kafka/client-options.ts';

export interface DistributionSetup {
  env: Record<string, string>;
  config: Config;
  dbDir: string;
  schemaBase: string;
  stateDir: string;
}

let counter = 0;

export function distributionSetup(cluster: TestCluster, overrides: Record<string, string> = {}): DistributionSetup {
  const root = tempDir('distribution');
  const env = {
    ...cluster.env,
    SCIENCE_DB_PATH: join(root, 'science'),
    DISTRIBUTION_SCHEMA: join(root, 'schemas', 'distribution_schema.avsc'),
    DISTRIBUTION_STATE_DIR: join(root, 'state'),
    DISTRIBUTION_ID: `test-${process.pid}-${++counter}`,
    DISTRIBUTION_POLL_MS: '50',
    ...overrides,
  };
  return { env, config: loadConfig({ env: testEnv(env) }), dbDir: env.SCIENCE_DB_PATH, schemaBase: env.DISTRIBUTION_SCHEMA, stateDir: env.DISTRIBUTION_STATE_DIR };
}

/**
 * Every committed message of a topic (read_committed, aborted transactions dropped). `settleMs`:
 * how long the read waits for the last commit's markers before it takes the stable end as the end
 * (the reader's default, 2 s, suits a read that may meet a transaction still open; a suite whose
 * transactions have all ended gives a deadline for a slow broker instead).
 */
export async function readAll(config: Config, topic: string, settleMs?: number): Promise<ConsumedMessage[]> {
  const out: ConsumedMessage[] = [];
  for await (const m of readTopic(kafkaClientOptions(config), topic, { settleMs })) out.push(m);
  return out;
}

const byKey = new Map<string, AvroType>();

/** Decodes a message with the schema in its key, as fink-client does. */
export function decodeWithKey(message: ConsumedMessage): Record<string, unknown> {
  const key = message.key!.toString();
  let type = byKey.get(key);
  if (type === undefined) byKey.set(key, (type = parseAvroType(JSON.parse(key))));
  return type.fromBuffer(message.value!) as Record<string, unknown>;
}

/** `fink start distribution ...` as a child process, for tests that kill or stop it. */
export type DistributionProcess = FinkProcess;

/** What the service logs once its producer session is open and its checkpoint read. */
export const SESSION_OPEN = /no checkpoint yet|resuming after the last committed batch/;

export function spawnDistribution(env: Record<string, string>, args: string[] = []): DistributionProcess {
  return spawnFink(['start', 'distribution', ...args], env);
}

/** Waits until the service's committed checkpoint covers `alerts` alerts (cheap: the checkpoint topic only). */
export async function waitForCommitted(setup: DistributionSetup, alerts: number, timeoutMs = 180_000): Promise<number> {
  let done = 0;
  await waitFor(`${alerts} alerts committed`, async () => (done = await committedAlerts(setup)) >= alerts, { timeoutMs, everyMs: 200, detail: () => `${done} committed` }).catch(() => {});
  return done;
}

/** How many alerts the service's checkpoint says are committed (0 before its first commit). */
export async function committedAlerts(setup: DistributionSetup): Promise<number> {
  return (await readCheckpoint(kafkaClientOptions(setup.config), setup.config.require('DISTRIBUTION_CHECKPOINT_TOPIC'), setup.config.require('DISTRIBUTION_ID')).catch(() => null))?.saved?.alerts ?? 0;
}
