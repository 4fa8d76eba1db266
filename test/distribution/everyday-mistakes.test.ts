// Everyday mistakes get one line that names what was tried and what to do, not a stack trace.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/temp.ts';
import { spawnDistribution } from '../helpers/distribution.ts';
import { freePortPair, startTestCluster } from '../helpers/kafka.ts';

const root = tempDir('mistakes');
after(() => rmSync(root, { recursive: true, force: true }));

async function nobodyListening(): Promise<Record<string, string>> {
  const port = await freePortPair(1);
  return { DISTRIBUTION_SERVERS: `127.0.0.1:${port}`, SCIENCE_DB_PATH: join(root, `science-${port}`), DISTRIBUTION_STATE_DIR: join(root, `state-${port}`), DISTRIBUTION_SCHEMA: join(root, `schemas-${port}`, 'distribution_schema.avsc') };
}

test('fink start distribution --until-caught-up with Kafka down: one line naming the address and what to do, exit 1', async () => {
  const env = await nobodyListening();
  const result = runCli('fink', ['start', 'distribution', '--until-caught-up'], env);
  assert.equal(result.status, 1, result.stderr);
  const errors = result.stderr.split('\n').filter((l) => l.startsWith('fink:'));
  assert.equal(errors.length, 1, result.stderr);
  assert.match(errors[0]!, new RegExp(`Kafka does not answer at ${env.DISTRIBUTION_SERVERS!.replace('.', '\\.')}.*ECONNREFUSED.*fink_kafka start`));
  assert.doesNotMatch(result.stderr, /unexpected error|^\s+at /m);
});

test('fink start distribution (continuous) with Kafka down: waits with its backoff, saying so with the address, and stops on SIGTERM', async () => {
  const env = await nobodyListening();
  const service = spawnDistribution(env);
  const deadline = Date.now() + 120_000;
  while (!/Kafka unavailable: retrying with backoff/.test(service.output()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.match(service.output(), new RegExp(`Kafka unavailable: retrying with backoff.*servers=${env.DISTRIBUTION_SERVERS!.replace('.', '\\.')}`));
  service.child.kill('SIGTERM');
  assert.equal(await service.exited, 0, service.output());
  assert.doesNotMatch(service.output(), /unexpected error/);
});

test('fink start distribution_test with Kafka down: one line naming the address, no table header, exit 1', async () => {
  const env = await nobodyListening();
  const result = runCli('fink', ['start', 'distribution_test'], env);
  assert.equal(result.status, 1, result.stderr);
  assert.equal(result.stdout, '', 'no table header before the error');
  assert.match(result.stderr, new RegExp(`^fink: Kafka does not answer at ${env.DISTRIBUTION_SERVERS!.replace('.', '\\.')} .*ECONNREFUSED`));
  assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
});

test('fink start distribution_test --topic nope: one line naming the topic and how to list those that exist, exit 1', async () => {
  const cluster = await startTestCluster();
  try {
    const result = runCli('fink', ['start', 'distribution_test', '--topic', 'nope'], cluster.env);
    assert.equal(result.status, 1, result.stderr);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /^fink: topic nope does not exist at .*fink_kafka --list-topics/);
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
  } finally {
    await cluster.stop();
  }
});
