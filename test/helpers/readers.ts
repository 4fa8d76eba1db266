// Readers of a topic at read_committed that share no code with the project: kcat (librdkafka, the
// client under fink-client) and Kafka's own console consumer. They check the project's reader.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import type { TestContext } from 'node:test';
import type { Config } from '../../src/config/config.ts';
import { ensureKafkaJars } from '../../src/cluster/provision.ts';
import { clusterSettings } from '../../src/cluster/settings.ts';
import { prerequisiteMissing, prerequisiteNoted } from './prerequisites.ts';

const KCAT_TIMEOUT_MS = 180_000;

const KCAT_MISSING = 'kcat is not installed (Debian package kcat); .ci/run installs it';

/** Whether kcat is installed; a kcat that is there but fails to answer -V is a failure. */
function kcatInstalled(): boolean {
  const probe = spawnSync('kcat', ['-V'], { encoding: 'utf8', timeout: KCAT_TIMEOUT_MS });
  if ((probe.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return false;
  assert.equal(probe.error, undefined, `kcat -V: ${probe.error?.message}`);
  return true;
}

/** True when kcat is installed; otherwise the test skips (fails under CI=true). */
export function haveKcat(t: TestContext): boolean {
  return kcatInstalled() || prerequisiteMissing(t, KCAT_MISSING);
}

/** True when kcat is installed; otherwise the test goes on without what kcat would check, saying so (fails under CI=true). */
export function kcatIfInstalled(t: TestContext, without: string): boolean {
  if (kcatInstalled()) return true;
  prerequisiteNoted(t, KCAT_MISSING, without);
  return false;
}

/** kcat against a cluster; a kcat that hangs is a failure, never taken for one not installed. */
export function kcat(bootstrap: string, args: string[], input?: string): SpawnSyncReturns<string> {
  const run = spawnSync('kcat', ['-b', bootstrap, ...args], { encoding: 'utf8', input, timeout: KCAT_TIMEOUT_MS, maxBuffer: 256 << 20 });
  if (run.error !== undefined) throw new Error(`kcat ${args.join(' ')}: ${run.error.message}${run.signal === null ? '' : ` (no answer within ${KCAT_TIMEOUT_MS / 1000} s)`}`);
  return run;
}

/** Every committed message of a topic as kcat prints it with `format` (see kcat -f), one per line. */
export function kcatReadCommitted(bootstrap: string, topic: string, format: string): string[] {
  const run = kcat(bootstrap, ['-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-X', 'isolation.level=read_committed', '-f', `${format}\n`]);
  assert.equal(run.status, 0, `kcat reading ${topic}: ${run.stderr}`);
  return run.stdout.split('\n').slice(0, -1);
}

/** The first `count` committed values of a topic as Kafka's console consumer reads them (as text). */
export function consoleConsumerReadCommitted(config: Config, bootstrap: string, topic: string, count: number): string[] {
  const libs = ensureKafkaJars(clusterSettings(config, 'distribution'));
  const out = execFileSync('java', ['-cp', `${libs}/*`, 'org.apache.kafka.tools.consumer.ConsoleConsumer', '--bootstrap-server', bootstrap, '--topic', topic, '--from-beginning', '--isolation-level', 'read_committed', '--max-messages', String(count), '--timeout-ms', '120000'], { stdio: ['ignore', 'pipe', 'ignore'], timeout: 300_000 }).toString();
  return out.split('\n').slice(0, -1);
}
