import { test } from 'node:test';
import assert from 'node:assert/strict';
import { murmur2 } from '@platformatic/kafka';
import { murmur2OfKey, partitionOf } from '../../src/kafka/partitioner.ts';

test("murmur2 gives Kafka's own values (the vectors of Kafka's UtilsTest)", () => {
  const vectors: [string, number][] = [
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ];
  for (const [key, hash] of vectors) assert.equal(murmur2OfKey(key), hash, key);
});

test("murmur2 agrees with the client's for keys of every length mod 4, non-ASCII and long ones", () => {
  let seed = 7;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
  const alphabet = 'ZTF0123456789abcdefghijklmnopqrstuvwxyz-_éλ星\u{1F52D}';
  const chars = [...alphabet];
  const keys = ['', 'a', 'ab', 'abc', 'abcd', 'é', '星', '\u{1F52D}', String(2n ** 63n - 1n), 'x'.repeat(5000)];
  for (let i = 0; i < 5000; i++) {
    const length = next() % 40;
    let key = '';
    for (let j = 0; j < length; j++) key += chars[next() % chars.length];
    keys.push(key);
  }
  for (const key of keys) assert.equal(murmur2OfKey(key), murmur2(key), JSON.stringify(key));
});

test('a long key after short ones, and short ones after it, hash as they do alone', () => {
  const long = 'ZTF'.repeat(400);
  const before = murmur2OfKey('ZTF21aaaaaaa');
  assert.equal(murmur2OfKey(long), murmur2(long));
  assert.equal(murmur2OfKey('ZTF21aaaaaaa'), before);
});

test('partitionOf is the positive hash modulo the partitions, as Java\'s default partitioner', () => {
  for (const key of ['ZTF21abcdefg', '170032882292408380', 'a-little-bit-long-string']) {
    for (const partitions of [1, 3, 7, 100]) assert.equal(partitionOf(key, partitions), (murmur2(key) & 0x7fffffff) % partitions);
  }
  assert.equal(partitionOf('21', 3), (-973932308 & 0x7fffffff) % 3);
});
