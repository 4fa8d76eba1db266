// The one backoff policy: starts short, doubles to a ceiling, starts short again after a success.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Backoff, kafkaBackoff } from '../../src/backoff.ts';

test('the waits double from the first up to the ceiling, and stay there', () => {
  const backoff = new Backoff(500, 3000);
  assert.deepEqual(Array.from({ length: 6 }, () => backoff.next()), [500, 1000, 2000, 3000, 3000, 3000]);
});

test('a success starts the waits over from the first', () => {
  const backoff = new Backoff(1000, 15_000);
  backoff.next();
  backoff.next();
  backoff.reset();
  assert.equal(backoff.next(), 1000);
});

test("Kafka's policy is 0.5 s doubling to 15 s", () => {
  const backoff = kafkaBackoff();
  assert.deepEqual(Array.from({ length: 8 }, () => backoff.next()), [500, 1000, 2000, 4000, 8000, 15_000, 15_000, 15_000]);
});
