// How a service rides out Kafka being away: the waits it is told, and the lines it logs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Logger } from '../../src/log.ts';
import { Outage } from '../../src/service/outage.ts';

function recorder(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { lines, log: (level, message) => lines.push(`${level} ${message}`) };
}

const SERVERS = ['localhost:9092'];

test('the waits back off from 0.5 s and start over once Kafka is back', () => {
  const outage = new Outage(recorder().log);
  const waits = [1, 2, 3].map(() => outage.failed(new Error('down'), 'unreachable', [], SERVERS));
  assert.deepEqual(waits, [500, 1000, 2000]);
  outage.recovered();
  assert.equal(outage.failed(new Error('down'), 'unreachable', [], SERVERS), 500);
});

test('an unreachable Kafka is warned about once per outage, and its return said once', () => {
  const { log, lines } = recorder();
  const outage = new Outage(log);
  for (let i = 0; i < 3; i++) outage.failed(new Error('down'), 'unreachable', [], SERVERS);
  outage.recovered();
  outage.recovered();
  assert.deepEqual(lines, ['warn Kafka unavailable: retrying with backoff, nothing is lost', 'info Kafka is back']);
});

test('a coordinator that settles within the grace period is no outage', () => {
  const { log, lines } = recorder();
  const outage = new Outage(log);
  outage.failed(new Error('loading'), 'settling', ['COORDINATOR_LOAD_IN_PROGRESS'], SERVERS);
  outage.recovered();
  assert.deepEqual(lines, []);
});

test('a transaction failed by a broker that answered is said each time', () => {
  const { log, lines } = recorder();
  const outage = new Outage(log);
  outage.failed(new Error('x'), 'answered', [], SERVERS);
  outage.failed(new Error('x'), 'answered', [], SERVERS);
  assert.equal(lines.filter((l) => l.includes('failed the transaction in flight')).length, 2);
});

test("the words name what is away, and the error as the service describes it", () => {
  const fields: unknown[] = [];
  const outage = new Outage((_level, message, f) => fields.push([message, f]), { subject: 'upstream', describe: () => 'root cause' });
  outage.failed(new Error('wrapper'), 'unreachable', [], SERVERS);
  assert.deepEqual(fields, [['upstream unavailable: retrying with backoff, nothing is lost', { servers: 'localhost:9092', error: 'root cause', ids: undefined }]]);
});
