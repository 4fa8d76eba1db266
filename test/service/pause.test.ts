// The interruptible pause: a stop ends it at once, quietly.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pause } from '../../src/pause.ts';

test('a pause ends when its time is up', async () => {
  const started = performance.now();
  await pause(20);
  assert.ok(performance.now() - started >= 19);
});

// A pause that an abort does not end would run for 600 s: the timeout fails it long before.
test('an abort ends a long pause at once, without an error', { timeout: 60_000 }, async () => {
  const controller = new AbortController();
  const paused = pause(600_000, controller.signal);
  controller.abort();
  const started = performance.now();
  await paused;
  assert.ok(performance.now() - started < 10_000, 'the pause did not wait out its time');
});

test('a signal already aborted does not pause at all', { timeout: 60_000 }, async () => {
  await pause(600_000, AbortSignal.abort());
});
