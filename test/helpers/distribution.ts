// A distribution set-up for a test: its own science database, schema folder, state folder and
// service id, on a test cluster; and the ways tests read back what went out.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { NODE_FLAGS } from '../../src/cli/runtime.ts';
import { loadConfig, packageRoot, type Config } from '../../src/config/config.ts';
import { readTopic, type ConsumedMessage } from '../../src/kafka/topic-reader.ts';
import { parseAvroType, type AvroType } from '../../src/avro/schema.ts';
import { readCheckpoint } from '../../src/distribution/checkpoint.ts';
import { testEnv } from './cli.ts';
import { tempDir } from './temp.ts';
import type { TestCluster } from './kafka.ts';

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

/** Every committed message of a topic (read_committed, aborted transactions dropped). */
export async function readAll(config: Config, topic: string): Promise<ConsumedMessage[]> {
  const out: ConsumedMessage[] = [];
  for await (const m of readTopic(config, topic)) out.push(m);
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
export function spawnDistribution(env: Record<string, string>, args: string[] = []): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [...NODE_FLAGS, join(packageRoot(), 'bin', 'fink.ts'), 'start', 'distribution', ...args], { env: testEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** Waits until the service's committed checkpoint covers `alerts` alerts (cheap: the checkpoint topic only). */
export async function waitForCommitted(setup: DistributionSetup, alerts: number, timeoutMs = 90_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let done = 0;
  while (Date.now() < deadline) {
    done = (await readCheckpoint(setup.config, setup.config.require('DISTRIBUTION_CHECKPOINT_TOPIC'), setup.config.require('DISTRIBUTION_ID')).catch(() => null))?.alerts ?? 0;
    if (done >= alerts) return done;
    await sleep(200);
  }
  return done;
}
