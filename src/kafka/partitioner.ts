// Which partition an object's messages go to: Kafka's own default (murmur2 of the key, as Java's
// producer computes it), so that the science log and the community topics place an object alike
// and any Kafka client computes the same partition from the key.
//
// murmur2 is written here in 32-bit integer arithmetic, as Java's Utils.murmur2 is. The client's
// own (@platformatic/kafka 2.12) computes it in BigInt and copies the key into a new Buffer: 0.6
// to 0.9 µs and about 1.1 KB of garbage a call, once for every message of every topic; this one
// takes 0.06 to 0.16 µs and allocates nothing (BENCHMARKS.md, User filters, "Why partitions of
// their own cost the service"). test/kafka/partitioner.test.ts holds it to the client's murmur2
// and to Kafka's vectors.

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** Where keys are encoded to UTF-8, grown when a key could not fit (3 bytes a UTF-16 unit at most). */
let scratch = Buffer.allocUnsafe(256);

/** Kafka's murmur2 of the first `length` bytes of `data`, a signed 32-bit integer. */
function murmur2(data: Uint8Array, length: number): number {
  let h = SEED ^ length;
  const blocks = length & ~3;
  for (let i = 0; i < blocks; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const rest = length & 3;
  if (rest > 0) {
    if (rest === 3) h ^= data[blocks + 2]! << 16;
    if (rest >= 2) h ^= data[blocks + 1]! << 8;
    h ^= data[blocks]!;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** Kafka's murmur2 of a string's UTF-8 bytes. */
export function murmur2OfKey(key: string): number {
  if (key.length * 3 > scratch.length) scratch = Buffer.allocUnsafe(key.length * 3);
  return murmur2(scratch, scratch.write(key, 0, 'utf8'));
}

/** The partition of an object's alerts (by its objectKey): every partition is used, and one object's alerts stay in order. */
export function partitionOf(objectKey: string, partitions: number): number {
  return (murmur2OfKey(objectKey) & 0x7fffffff) % partitions;
}
