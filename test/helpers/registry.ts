// A real schema registry for a test file (the project's managed Apicurio Registry): a free port and
// its own state folder, started and stopped with the project's own code.
import { rmSync } from 'node:fs';
import { after } from 'node:test';
import { loadConfig } from '../../src/config/config.ts';
import { CCOMPAT_PATH, startRegistry, stopRegistry } from '../../src/cluster/registry.ts';
import { registrySettings } from '../../src/cluster/settings.ts';
import { testEnv } from './cli.ts';
import { freePortPair, withTestCluster, type TestCluster } from './kafka.ts';
import { tempDir } from './temp.ts';

export interface TestRegistry {
  /** The Confluent-compatible API (what clients are given). */
  url: string;
  pid: number;
  /** Configuration overrides naming this registry (REGISTRY_PORT, SIMULATOR_STATE_DIR, SIMULATOR_REGISTRY_URL). */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export async function startTestRegistry(): Promise<TestRegistry> {
  const stateDir = tempDir('registry-test');
  const port = await freePortPair(1);
  const env = { REGISTRY_PORT: String(port), SIMULATOR_STATE_DIR: stateDir, SIMULATOR_REGISTRY_URL: `http://127.0.0.1:${port}${CCOMPAT_PATH}` };
  const settings = registrySettings(loadConfig({ env: testEnv(env) }));
  const started = await startRegistry(settings, (line) => process.stderr.write(`# ${line}\n`));
  return {
    url: env.SIMULATOR_REGISTRY_URL,
    pid: started.pid,
    env,
    async stop() {
      await stopRegistry(settings);
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/**
 * A test cluster and a registry for the tests of the enclosing suite (or of the file, called at
 * its top level): started before them, the cluster first, and both stopped after, whichever
 * started. `started` is handed them for the suite's own variables and set-up.
 */
export function withClusterAndRegistry(started: (cluster: TestCluster, registry: TestRegistry) => void | Promise<void>): void {
  let registry: TestRegistry | undefined;
  // Registered first, so that it runs first: the registry stops before the cluster it uses.
  after(async () => {
    await registry?.stop();
  });
  withTestCluster(async (cluster) => {
    registry = await startTestRegistry();
    await started(cluster, registry);
  });
}
