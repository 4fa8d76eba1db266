// The rule that tells a fink message from a Confluent one (docs/architecture.md, Reading both
// formats), on the keys and values each format really has: a pure function, no broker needed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeConfluent } from '../../src/avro/confluent-wire.ts';
import { formatOf } from '../../src/consumer/message-decoder.ts';

const schemaKey = Buffer.from('{"type":"record","name":"alert","fields":[]}');
// A fink datum may start with 0: a Rubin alert whose first field, a long, is 0.
const finkValueStartingWithZero = Buffer.from([0, 2, 4, 6, 8, 10]);
const confluentValue = encodeConfluent(7, Buffer.from([2, 4, 6]));

test('a key that is a JSON object (the writer schema) is fink, whatever the value starts with, leading JSON whitespace allowed', () => {
  assert.equal(formatOf(schemaKey, finkValueStartingWithZero), 'fink');
  assert.equal(formatOf(schemaKey, confluentValue), 'fink');
  assert.equal(formatOf(Buffer.concat([Buffer.from(' \t\r\n'), schemaKey]), finkValueStartingWithZero), 'fink');
});

test('a key that is not a JSON object (an object id, a Confluent-serialised key, none) with a value starting with byte 0 and 5 bytes or more is Confluent', () => {
  assert.equal(formatOf(Buffer.from('ZTF18aaqjovh'), confluentValue), 'confluent');
  assert.equal(formatOf(Buffer.from('1152921504606847011'), confluentValue), 'confluent');
  assert.equal(formatOf(encodeConfluent(3, Buffer.from('x')), confluentValue), 'confluent');
  assert.equal(formatOf(null, confluentValue), 'confluent');
  assert.equal(formatOf(Buffer.alloc(0), confluentValue), 'confluent');
});

test('anything else is taken as fink, so that it fails as a fink message always did', () => {
  assert.equal(formatOf(Buffer.from('not a schema'), Buffer.from('x')), 'fink');
  assert.equal(formatOf(null, Buffer.from([1, 0, 0, 0, 7, 2])), 'fink');
  assert.equal(formatOf(Buffer.from('ZTF18aaqjovh'), Buffer.from([0, 0, 0, 7]).subarray(0, 4)), 'fink', 'a value of 4 bytes cannot hold the Confluent header');
  assert.equal(formatOf(null, null), 'fink');
  assert.equal(formatOf(Buffer.from('   '), confluentValue), 'confluent', 'a key of whitespace alone is not a schema');
});
