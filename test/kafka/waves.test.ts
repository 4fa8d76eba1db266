// The wave planner, without a broker: byte budgets per partition, order kept, nothing lost.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planWaves, RECORD_OVERHEAD_BYTES } from '../../src/kafka/waves.ts';
import type { Message } from '../../src/kafka/transactional-session.ts';

function message(topic: string, partition: number, bytes: number, n: number): Message {
  return { topic, partition, key: Buffer.alloc(0), value: Buffer.alloc(bytes, n % 256) };
}

const unlimited = () => 1e12;

test('small messages fit in one wave', () => {
  const messages = [0, 1, 2].flatMap((p) => [1, 2, 3].map((i) => message('t', p, 100, i)));
  const waves = planWaves(messages, unlimited, 10_000);
  assert.equal(waves.length, 1);
  assert.equal(waves[0]!.length, 9);
});

test('each wave holds at most the budget per partition, every message once, in order per partition', () => {
  const messages: Message[] = [];
  for (let i = 0; i < 50; i++) messages.push(message('a', i % 2, 300 + (i % 7) * 50, i), message('b', 0, 1000, i));
  const budget = 2_000;
  const waves = planWaves(messages, unlimited, budget);
  assert.ok(waves.length > 1);
  for (const wave of waves) {
    const used = new Map<string, number>();
    for (const m of wave) used.set(`${m.topic}/${m.partition}`, (used.get(`${m.topic}/${m.partition}`) ?? 0) + m.value!.length + RECORD_OVERHEAD_BYTES);
    for (const bytes of used.values()) assert.ok(bytes <= budget, `${bytes} > ${budget}`);
  }
  assert.deepEqual(waves.flat().length, messages.length);
  for (const key of ['a/0', 'a/1', 'b/0']) {
    const sent = waves.flat().filter((m) => `${m.topic}/${m.partition}` === key);
    const given = messages.filter((m) => `${m.topic}/${m.partition}` === key);
    assert.deepEqual(sent, given);
  }
});

test("a topic's own limit caps its budget below the wave size", () => {
  const messages = [1, 2, 3, 4].map((i) => message('tight', 0, 400, i));
  const waves = planWaves(messages, (t) => (t === 'tight' ? 1_100 : 1e12), 1_000_000);
  assert.deepEqual(waves.map((w) => w.length), [2, 2]);
});

test('a message larger than the budget goes alone, not never', () => {
  const messages = [message('t', 0, 5_000, 1), message('t', 0, 10, 2)];
  const waves = planWaves(messages, unlimited, 1_000);
  assert.deepEqual(waves.map((w) => w.length), [1, 1]);
});

test('no messages, no waves', () => {
  assert.deepEqual(planWaves([], unlimited), []);
});
