// A Python virtualenv with fink-client from PyPI, made once under var/ and reused; redone when a
// previous install did not finish. Tests that need it skip, saying why, where Python cannot make
// one (under CI=true they fail instead: .ci/run makes it).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { packageRoot } from '../../src/config/config.ts';
import { prerequisiteMissing } from './prerequisites.ts';

export const FINK_CLIENT_VERSION = '12.3.0';
/**
 * Older librdkafka cannot authenticate with SCRAM against Kafka 4.x (it repeats the client nonce in
 * its client-final message; fixed in 2.6.1), so the secured tests need at least this.
 */
export const MIN_CONFLUENT_KAFKA = '2.6.1';

/** The venv's python, or a reason why there is none. */
export function finkClientPython(): { python: string } | { reason: string } {
  const venv = join(packageRoot(), 'var', 'venv-fink-client');
  const python = join(venv, 'bin', 'python');
  const marker = join(venv, `.fink-client-${FINK_CLIENT_VERSION}`);
  if (existsSync(marker)) return { python };
  if (spawnSync('python3', ['-c', 'import venv, ensurepip'], { stdio: 'ignore' }).status !== 0) {
    return { reason: 'python3 with the venv and ensurepip modules is not available' };
  }
  rmSync(venv, { recursive: true, force: true });
  process.stderr.write(`# creating ${venv} and installing fink-client ${FINK_CLIENT_VERSION} from PyPI (once)\n`);
  const make = spawnSync('python3', ['-m', 'venv', venv], { stdio: 'inherit' });
  if (make.status !== 0) return { reason: `python3 -m venv ${venv} failed` };
  const pip = spawnSync(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', `fink-client==${FINK_CLIENT_VERSION}`, `confluent-kafka>=${MIN_CONFLUENT_KAFKA}`], { stdio: 'inherit', timeout: 600_000 });
  if (pip.status !== 0) throw new Error(`pip install fink-client==${FINK_CLIENT_VERSION} failed (exit ${pip.status}); PyPI must be reachable`);
  writeFileSync(marker, `${new Date().toISOString()}\n`);
  return { python };
}

/**
 * confluent-kafka's schema registry client and Avro serializers need these, pinned: the extras
 * `avro` and `schemaregistry` of the confluent-kafka that fink-client brings.
 */
export const SCHEMA_REGISTRY_PACKAGES = [
  'confluent-kafka[avro,schemaregistry]==2.16.1', 'fastavro==1.13.1', 'requests==2.34.2', 'attrs==26.1.0',
  'cachetools==8.0.2', 'Authlib==1.9.10', 'httpx2==2.16.2',
];

/** The fink-client venv with confluent-kafka's schema registry extras too (installed once), or a reason. */
export function schemaRegistryPython(): { python: string } | { reason: string } {
  const base = finkClientPython();
  if ('reason' in base) return base;
  const marker = join(packageRoot(), 'var', 'venv-fink-client', '.schema-registry-2.16.1');
  if (existsSync(marker)) return base;
  process.stderr.write(`# installing confluent-kafka's schema registry extras into the fink-client venv (once)\n`);
  const pip = spawnSync(base.python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...SCHEMA_REGISTRY_PACKAGES], { stdio: 'inherit', timeout: 600_000 });
  if (pip.status !== 0) throw new Error(`pip install ${SCHEMA_REGISTRY_PACKAGES[0]} failed (exit ${pip.status}); PyPI must be reachable`);
  writeFileSync(marker, `${new Date().toISOString()}\n`);
  return base;
}

/** The python of `venv` (finkClientPython or schemaRegistryPython), or undefined once the missing prerequisite is reported on `t` (a failure under CI=true). */
export function pythonOr(t: TestContext, venv: { python: string } | { reason: string }): string | undefined {
  if ('python' in venv) return venv.python;
  prerequisiteMissing(t, venv.reason);
  return undefined;
}

/**
 * Consumes `count` alerts of a topic with fink-client's AlertConsumer for a survey (within 90 s;
 * test/interop/fink_client_consume.py says what each line holds) and fails the test unless it got
 * them; with `caFile`, over TLS trusting that CA (SASL_SSL with `credentials`).
 */
export function consumeWithFinkClient<T>(python: string, bootstrap: string, topic: string, count: number, options: { survey?: 'ztf' | 'lsst'; credentials?: string[]; caFile?: string } = {}): T[] {
  const script = join(packageRoot(), 'test', 'interop', 'fink_client_consume.py');
  const tls = options.caFile === undefined ? [] : ['--ca-file', options.caFile];
  const run = spawnSync(python, [script, '--survey', options.survey ?? 'ztf', ...tls, bootstrap, topic, String(count), '90', ...(options.credentials ?? [])], { encoding: 'utf8', timeout: 180_000, maxBuffer: 1 << 30 });
  assert.equal(run.status, 0, `fink-client consumer failed:\n${run.stderr}`);
  return run.stdout.trim().split('\n').map((line) => JSON.parse(line) as T);
}
