// Upstream positions kept in the night files: written with the alerts, a transaction per night in
// the messages' order, read back as the latest over the nights (the later reset first).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyInOrder, positionKey, readPositions, type PositionedMessage } from '../../src/sciencedb/positions.ts';
import { createSimulation } from '../../src/sciencedb/simulate.ts';
import { listNights, ScienceWriter, type NewAlert } from '../../src/sciencedb/store.ts';
import { readStored } from '../helpers/stored.ts';
import { tempDir } from '../helpers/temp.ts';

function alertsOf(night: string, count: number, seed: number): NewAlert[] {
  const simulation = createSimulation({ profile: 'ztf-light', seed, night });
  return Array.from({ length: count }, () => simulation.next());
}

const message = (topic: string, partition: number, next: bigint, alerts: NewAlert[] = []): PositionedMessage => ({ topic, partition, next, alerts });

test('a batch crossing nights: one transaction per run of a night, positions with the alerts before them', () => {
  const dir = tempDir('positions');
  const [a, b] = [alertsOf('20260101', 3, 1), alertsOf('20260102', 2, 2)];
  const writer = new ScienceWriter(dir);
  try {
    const done = applyInOrder(writer, [
      message('t', 0, 1n, [a[0]!]),
      message('t', 1, 1n), // a dead letter: no alert, its partition moves on in the running transaction
      message('t', 0, 2n, [a[1]!]),
      message('t', 0, 3n, [b[0]!]),
      message('t', 1, 2n, [b[1]!]),
      message('t', 0, 4n, [a[2]!]),
    ], 0, () => '20991231');
    assert.deepEqual(done, { inserted: 5, transactions: 3 });
  } finally {
    writer.close();
  }
  assert.deepEqual(listNights(dir), ['20260101', '20260102']);
  assert.equal(readStored(dir).length, 5);
  const positions = readPositions(dir);
  assert.equal(positions.get(positionKey('t', 0))?.next, 4n);
  assert.equal(positions.get(positionKey('t', 1))?.next, 2n);
});

test('positions without alerts go to the idle night; a later epoch wins over a further offset', () => {
  const dir = tempDir('positions');
  const writer = new ScienceWriter(dir);
  try {
    applyInOrder(writer, [message('t', 0, 100n, alertsOf('20260101', 1, 3))], 0, () => '20991231');
    // A reset to an earlier offset, recorded in another night's file: it counts, being later.
    applyInOrder(writer, [message('t', 0, 7n), message('u', 2, 9n)], 1, () => '20260105');
  } finally {
    writer.close();
  }
  assert.deepEqual(listNights(dir), ['20260101', '20260105']);
  const positions = readPositions(dir);
  assert.deepEqual(positions.get(positionKey('t', 0)), { topic: 't', partition: 0, next: 7n, epoch: 1 });
  assert.deepEqual(positions.get(positionKey('u', 2)), { topic: 'u', partition: 2, next: 9n, epoch: 1 });
});

test('an alert already stored is not stored again, and its position still moves', () => {
  const dir = tempDir('positions');
  const [alert] = alertsOf('20260101', 1, 4);
  const writer = new ScienceWriter(dir);
  try {
    assert.equal(applyInOrder(writer, [message('t', 0, 1n, [alert!])], 0, () => '20991231').inserted, 1);
    assert.equal(applyInOrder(writer, [message('t', 0, 2n, [alert!])], 0, () => '20991231').inserted, 0);
  } finally {
    writer.close();
  }
  assert.equal(readStored(dir).length, 1);
  assert.equal(readPositions(dir).get(positionKey('t', 0))?.next, 2n);
});
