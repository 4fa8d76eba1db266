// A fetch round decoded without a broker: alerts with the position after their message, dead
// letters beside them (their position still moves), and positions moved past control batches.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConsumedMessage, FetchedPartition } from '../../src/kafka/topic-reader.ts';
import { SchemaCache } from '../../src/sciencedb/decode.ts';
import type { Decoders } from '../../src/upstream/decode.ts';
import { decodeRound, type RoundPartitions } from '../../src/upstream/round.ts';
import { RegistrySchemaCache } from '../../src/upstream/schema-cache.ts';
import { simulatedZtfAlerts } from '../helpers/upstream.ts';
import { tempDir } from '../helpers/temp.ts';

function decoders(): Decoders {
  return { schemas: new SchemaCache(), registry: new RegistrySchemaCache(undefined, tempDir('round'), { retries: 0, log: () => {} }) };
}

function message(partition: number, offset: bigint, value: Buffer | null): ConsumedMessage {
  return { topic: 'ztf_a', partition, offset, timestamp: 0n, key: null, value, transactional: false } as ConsumedMessage;
}

function fetched(partition: number, messages: ConsumedMessage[], next: bigint): FetchedPartition {
  return { topic: 'ztf_a', partition, error: 'NONE', messages, next, highWatermark: next };
}

const ASSIGNED: RoundPartitions = { get: (topic, partition) => (topic === 'ztf_a' && partition < 2 ? { format: 'ztf', next: 0n } : undefined) };

test('a round with a dead letter: the good alerts decoded, the bad message a dead letter whose position still moves', async () => {
  const [a, b] = simulatedZtfAlerts(2, 7, '20250101');
  const parts = [fetched(0, [message(0, 0n, a!.message), message(0, 1n, Buffer.from('not avro')), message(0, 2n, b!.message)], 3n)];
  const round = await decodeRound(parts, ASSIGNED, decoders());
  assert.deepEqual(round.messages.map((m) => [m.next, m.alerts.length]), [[1n, 1], [2n, 0], [3n, 1]]);
  assert.deepEqual(round.messages.flatMap((m) => m.alerts.map((x) => x.alertId)), [a!.alertId, b!.alertId]);
  assert.deepEqual(round.deadLetters.map((d) => [d.partition, d.offset]), [[0, 1n]]);
  assert.match(round.deadLetters[0]!.reason, /^ztf format: /);
  assert.deepEqual([...round.read], [['ztf_a', 3]]);
});

test('an empty message is a dead letter', async () => {
  const round = await decodeRound([fetched(1, [message(1, 0n, null)], 1n)], ASSIGNED, decoders());
  assert.deepEqual(round.deadLetters.map((d) => d.reason), ['an empty message']);
  assert.deepEqual(round.messages.map((m) => m.next), [1n]);
});

test('a partition moved past a control batch without a message gets a position of its own', async () => {
  const round = await decodeRound([fetched(0, [], 5n)], ASSIGNED, decoders());
  assert.deepEqual(round.messages, [{ topic: 'ztf_a', partition: 0, next: 5n, alerts: [] }]);
  assert.equal(round.read.size, 0);
});

test('a partition not moved at all gives nothing', async () => {
  const round = await decodeRound([fetched(0, [], 0n)], ASSIGNED, decoders());
  assert.deepEqual(round.messages, []);
});

test('a partition no longer assigned is passed over', async () => {
  const round = await decodeRound([fetched(5, [message(5, 0n, null)], 1n)], ASSIGNED, decoders());
  assert.deepEqual(round, { messages: [], deadLetters: [], held: 0, read: new Map() });
});
