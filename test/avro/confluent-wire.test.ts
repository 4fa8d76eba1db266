import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeConfluent, encodeConfluent, WireFormatError } from '../../src/avro/confluent-wire.ts';

test('a datum framed in the Confluent wire format comes back with its schema id, bytes identical', () => {
  const datum = Buffer.from([1, 2, 3, 250, 0, 7]);
  const framed = encodeConfluent(0x01020304, datum);
  assert.deepEqual([...framed.subarray(0, 5)], [0, 1, 2, 3, 4]);
  const back = decodeConfluent(framed);
  assert.equal(back.schemaId, 0x01020304);
  assert.deepEqual(back.datum, datum);
});

test('a message too short or without the magic byte is refused with a message that says why', () => {
  assert.throws(() => decodeConfluent(Buffer.from([0, 0, 1])), (e: unknown) => e instanceof WireFormatError && /at least 5 bytes/.test(e.message));
  assert.throws(() => decodeConfluent(Buffer.from([0x4f, 0x62, 0x6a, 1, 0, 0])), (e: unknown) => e instanceof WireFormatError && /starts with byte 0; this one starts with 79/.test(e.message));
  assert.throws(() => encodeConfluent(-1, Buffer.alloc(0)), WireFormatError);
});
