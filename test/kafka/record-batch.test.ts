// This project's record batches and Produce requests against the client's own: byte for byte the
// same for the same messages, with every codec, and read back by the client's reader.
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRecordsBatch, produceV11, readRecordsBatch, Reader } from '@platformatic/kafka';
import { encodeRecordBatch, SMALL_BATCH_BYTES, type BatchMessage } from '../../src/kafka/record-batch.ts';
import { createProduceRequest } from '../../src/kafka/produce-request.ts';
import { COMPRESSIONS } from '../../src/config/keys.ts';

const T0 = 1_764_000_000_000n;

/** Messages of every shape a record can take: null key, empty value, headers, a large incompressible value, a timestamp before the first. */
function messages(): (BatchMessage & { topic: string; partition: number })[] {
  const schemaKey = Buffer.from(JSON.stringify({ type: 'record', name: 'alert', fields: [{ name: 'candid', type: 'long' }] }));
  return [
    { topic: 't', partition: 0, key: schemaKey, value: randomBytes(300_000), timestamp: T0 },
    { topic: 't', partition: 0, key: null, value: Buffer.from('no key'), timestamp: T0 + 5n },
    { topic: 't', partition: 0, key: schemaKey, value: Buffer.alloc(0), timestamp: T0 - 3n },
    { topic: 't', partition: 0, key: schemaKey, value: Buffer.from('with headers'), headers: new Map([[Buffer.from('h1'), Buffer.from('v1')], [Buffer.from('h2'), Buffer.alloc(0)]]), timestamp: T0 + 1000n },
    { topic: 't', partition: 0, key: schemaKey, value: Buffer.concat([schemaKey, schemaKey, randomBytes(1000)]), timestamp: T0 + 1000n },
  ];
}

/** The client's batch of the same messages (it fills in what it normalises, so it gets copies). */
function clientBatch(ms: readonly BatchMessage[], options: Parameters<typeof createRecordsBatch>[1]): Buffer {
  return createRecordsBatch(ms.map((m) => ({ ...m, headers: m.headers ?? new Map() })) as never, options).buffer;
}

for (const compression of COMPRESSIONS) {
  test(`a record batch (${compression}) is byte for byte the client's, and the client reads its records back`, () => {
    const ms = messages();
    const ours = encodeRecordBatch(ms, { compression, producerId: 4242n, producerEpoch: 7, firstSequence: 99, transactional: true });
    const bytes = Buffer.concat([ours.header, ours.records]);
    assert.equal(bytes.length, ours.length);
    const sequences = new Map([['t:0', 99]]) as Map<string, number> & { getWithDefault(k: string, d: number): number };
    sequences.getWithDefault = (k, d) => sequences.get(k) ?? d;
    assert.deepEqual(bytes, clientBatch(ms, { compression, producerId: 4242n, producerEpoch: 7, sequences: sequences as never, transactionalId: 'tx' }));
    const back = readRecordsBatch(Reader.from(bytes));
    assert.equal(back.records.length, ms.length);
    assert.equal(back.firstSequence, 99);
    assert.equal(back.producerId, 4242n);
    back.records.forEach((r, i) => {
      assert.deepEqual(r.value, ms[i]!.value);
      assert.deepEqual(r.key ?? null, ms[i]!.key ?? null);
      assert.equal(BigInt(r.timestampDelta), ms[i]!.timestamp! - T0);
      assert.equal(r.headers.length, ms[i]!.headers?.size ?? 0);
    });
  });
}

test('the scratch buffer serves a smaller batch after a larger one, and a batch beyond it gets its own', () => {
  const large = encodeRecordBatch([{ key: null, value: randomBytes(20 * 1024 * 1024), timestamp: T0 }], { compression: 'lz4' });
  const small = [{ key: Buffer.from('k'), value: Buffer.from('a small one'), timestamp: T0 }];
  const mid = [{ key: Buffer.from('k'), value: randomBytes(2_000_000), timestamp: T0 }];
  for (const ms of [mid, small, mid]) {
    const ours = encodeRecordBatch(ms, { compression: 'lz4' });
    assert.deepEqual(Buffer.concat([ours.header, ours.records]), clientBatch(ms, { compression: 'lz4' }));
  }
  assert.equal(readRecordsBatch(Reader.from(Buffer.concat([large.header, large.records]))).records[0]!.value?.length, 20 * 1024 * 1024);
});

for (const compression of COMPRESSIONS) {
  test(`a Produce request over topics and partitions (${compression}) is byte for byte the client's (v11), and the next request leaves it whole until then`, () => {
    const ms = [
      ...messages(),
      { topic: 't', partition: 2, key: Buffer.from('k'), value: randomBytes(5000), timestamp: T0 },
      { topic: 'u', partition: 1, key: Buffer.from('k'), value: randomBytes(5000), timestamp: T0 },
      { topic: 't', partition: 0, key: Buffer.from('k'), value: Buffer.from('after the others'), timestamp: T0 + 1n },
    ].map((m) => ({ ...m, headers: m.headers ?? new Map<Buffer, Buffer>() }));
    const sequences = Object.assign(new Map([['t:0', 3], ['u:1', 8]]), { getWithDefault(this: Map<string, number>, k: string, d: number) { return this.get(k) ?? d; } });
    // The client compresses every batch; ours leaves small ones uncompressed unless told not to (the next tests).
    const options = { compression, producerId: 11n, producerEpoch: 2, sequences, transactionalId: 'fink-tx', uncompressedBelow: 0 };
    const theirs = produceV11.createRequest(-1, 30_000, ms.map((m) => ({ ...m })) as never, options as never).buffer;
    // Each partition's batch has its own space within a request: none overwrites another.
    assert.deepEqual(createProduceRequest(-1, 30_000, ms, options).buffer, theirs);
    // A request's batches stay as they are until the next request is built (the client copies a request at once).
    const first = createProduceRequest(-1, 30_000, ms, options);
    const copied = Buffer.from(first.buffer);
    assert.deepEqual(copied, theirs);
    const other = ms.map((m) => ({ ...m, value: m.value == null ? m.value : randomBytes(m.value.length) }));
    assert.notDeepEqual(createProduceRequest(-1, 30_000, other, options).buffer, copied);
  });
}

/** The codec bits of each partition's batch in a v11 Produce request, as `topic:partition` -> codec id. */
function requestCodecs(request: Buffer): Map<string, number> {
  const reader = Reader.from(request);
  reader.readNullableString(); // transactional id
  reader.readInt16(); // acks
  reader.readInt32(); // timeout
  const codecs = new Map<string, number>();
  reader.readArray((r) => {
    const topic = r.readString();
    r.readArray((r) => {
      const partition = r.readInt32();
      const batch = r.readBytes();
      codecs.set(`${topic}:${partition}`, batch!.readInt16BE(21) & 0x07);
      return partition;
    });
    return topic;
  });
  return codecs;
}

test('a batch whose records are under the threshold is written uncompressed, with the bytes of an uncompressed one; from the threshold on, compressed', () => {
  const small = [{ key: Buffer.from('k'), value: randomBytes(SMALL_BATCH_BYTES - 100), timestamp: T0 }];
  const large = [{ key: Buffer.from('k'), value: randomBytes(SMALL_BATCH_BYTES), timestamp: T0 }];
  for (const compression of ['lz4', 'zstd', 'snappy', 'gzip'] as const) {
    const ours = encodeRecordBatch(small, { compression, uncompressedBelow: SMALL_BATCH_BYTES });
    assert.deepEqual(Buffer.concat([ours.header, ours.records]), clientBatch(small, { compression: 'none' }), `${compression}: a small batch`);
    const big = encodeRecordBatch(large, { compression, uncompressedBelow: SMALL_BATCH_BYTES });
    assert.deepEqual(Buffer.concat([big.header, big.records]), clientBatch(large, { compression }), `${compression}: a large batch`);
  }
});

test('a Produce request leaves its small batches uncompressed by default and compresses the large ones, by partition', () => {
  const ms = [
    { topic: 'user', partition: 0, key: Buffer.from('k'), value: randomBytes(10_000), timestamp: T0 },
    { topic: 'community', partition: 1, key: Buffer.from('k'), value: randomBytes(10_000), timestamp: T0 },
    { topic: 'community', partition: 1, key: Buffer.from('k'), value: randomBytes(30_000), timestamp: T0 },
  ].map((m) => ({ ...m, headers: new Map<Buffer, Buffer>() }));
  for (const [compression, bits] of [['lz4', 3], ['zstd', 4]] as const) {
    const request = createProduceRequest(-1, 30_000, ms, { compression, transactionalId: 'fink-tx' }).buffer;
    assert.deepEqual(requestCodecs(request), new Map([['user:0', 0], ['community:1', bits]]), compression);
  }
});
