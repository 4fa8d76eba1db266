// The progress line: due every few seconds, its rates from the sampled counts, the costly fields asked only when due.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LogFields } from '../../src/log.ts';
import { Progress } from '../../src/service/progress.ts';

test('a due line shows the alerts sampled, their rate, and what the service adds', () => {
  const lines: LogFields[] = [];
  let alerts = 0;
  const progress = new Progress(0, (_level, _message, fields) => lines.push(fields!), () => ({ alerts }));
  alerts = 7;
  progress.tick(() => ({ lag: 3 }));
  assert.equal(lines.length, 1);
  assert.equal(lines[0]!.alerts, 7);
  assert.equal(lines[0]!.lag, 3);
  assert.ok('alerts_per_s' in lines[0]!);
  assert.ok(!('mb_per_s' in lines[0]!), 'no byte rate for a service that counts no bytes');
});

test('a service that counts bytes gets their rate', () => {
  const lines: LogFields[] = [];
  const progress = new Progress(0, (_level, _message, fields) => lines.push(fields!), () => ({ alerts: 1, bytes: 5e6 }));
  progress.tick();
  assert.ok('mb_per_s' in lines[0]!);
});

test('before a line is due nothing is logged and the costly fields are not asked', () => {
  const lines: LogFields[] = [];
  let asked = false;
  const progress = new Progress(3600, (_level, _message, fields) => lines.push(fields!), () => ({ alerts: 0 }));
  progress.tick(() => {
    asked = true;
    return { lag: 1 };
  });
  assert.deepEqual(lines, []);
  assert.equal(asked, false);
});
