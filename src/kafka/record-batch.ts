// Kafka record batches (magic 2) written in one pass, for the produce path of large alerts.
// @platformatic/kafka 2.12 builds a batch as a chain of small buffers, then joins the records into
// one buffer to compress them, joins header and records again for the CRC, and once more for the
// request: three copies of every alert and as many large allocations, which on Rubin's 190 KB
// alerts show up as garbage collection (BENCHMARKS.md, Record batches written in one pass). Here the
// records are written once, straight into the lz4 codec's memory (lz4-in-place.ts) or into a
// scratch buffer that another codec reads, and the batch goes into the request by reference,
// checksummed where it lies. The bytes are those the client writes (test/kafka/record-batch.test.ts
// compares them); only the way there differs.
import { compressionsAlgorithms } from '@platformatic/kafka';
import { crc32c } from '@node-rs/crc32';
import type { Compression } from '../config/keys.ts';
import { lz4CompressInPlace } from './lz4-in-place.ts';

/** A message as the producer hands it to its Produce call: serialized, its partition chosen. */
export interface BatchMessage {
  key?: Buffer | null;
  value?: Buffer | null;
  headers?: Map<Buffer, Buffer>;
  timestamp?: bigint;
}

export interface BatchOptions {
  compression?: Compression;
  producerId?: bigint;
  producerEpoch?: number;
  /** The sequence of the batch's first record (idempotent and transactional producers). */
  firstSequence?: number;
  transactional?: boolean;
  /**
   * A batch whose records take fewer bytes than this is written uncompressed, whatever `compression`
   * says (default 0: as `compression` says). See SMALL_BATCH_BYTES.
   */
  uncompressedBelow?: number;
}

/** A record batch as two pieces: the 61-byte header and the records (compressed or not). */
export interface RecordBatch {
  header: Buffer;
  records: Buffer;
  length: number;
}

const HEADER_BYTES = 61;
/** Where the CRC's coverage starts: after baseOffset, batchLength, partitionLeaderEpoch, magic, crc. */
const CRC_FROM = 21;
const IS_TRANSACTIONAL = 1 << 4;
const MAGIC = 2;
const CODEC_BITS: Record<Compression, number> = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 };

/**
 * Records under this many bytes are not worth compressing: the codec's set-up per batch (about 40 µs
 * for zstd, 5 µs for lz4 on this machine) outweighs the few kilobytes it saves. It is what a user
 * filter's lone light message pays (a rare filter's alert is alone in its batch: BENCHMARKS.md, User
 * filters), while a topic's batch of hundreds of alerts, or one whole alert (ZTF's 60 KB, Rubin's
 * 190 KB), stays above it and compressed. A consumer reads a batch of either kind.
 */
export const SMALL_BATCH_BYTES = 32 * 1024;

/** An arena keeps at most this much: beyond it, new buffers, so that one huge alert does not stay in memory. */
const SCRATCH_KEEP_BYTES = 16 * 1024 * 1024;
/** An arena grows by doubling from this, up to SCRATCH_KEEP_BYTES; a request beyond it takes new buffers for the rest. */
const ARENA_FIRST_BYTES = 1024 * 1024;

/**
 * Where the batches of one Produce request go, reused from request to request. The client copies a
 * request into a buffer of its own as soon as its payload is built, before anything else runs
 * (Connection.send; test/kafka/library-workarounds.test.ts asserts it), so a request's batches need
 * not outlive the next request. A new buffer for every batch was, with the client's copy and the
 * alerts read from the science database, what V8 scheduled its full collections on: it counts new
 * buffers' bytes, not their lifetimes.
 */
export class BatchArena {
  #buffer = Buffer.allocUnsafe(0);
  #used = 0;

  /** The previous request was copied: its space is free again. */
  reset(): void {
    this.#used = 0;
  }

  /** `size` bytes, valid until the next reset. */
  take(size: number): Buffer {
    if (this.#used + size > this.#buffer.length) {
      const grown = Math.max(size, this.#buffer.length * 2, ARENA_FIRST_BYTES);
      // Views taken before keep the old buffer alive until the request is copied.
      if (grown > SCRATCH_KEEP_BYTES) return Buffer.allocUnsafe(size);
      this.#buffer = Buffer.allocUnsafe(grown);
      this.#used = 0;
    }
    const part = this.#buffer.subarray(this.#used, this.#used + size);
    this.#used += size;
    return part;
  }
}

/** Records for gzip, snappy and zstd are written here first: the codec copies what it reads, so its space serves every batch. */
const scratch = new BatchArena();

function zigzag(n: number): number {
  return n >= 0 ? n * 2 : -n * 2 - 1;
}

function varintSize(n: number): number {
  let v = zigzag(n);
  let size = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    size++;
  }
  return size;
}

function writeVarint(buffer: Buffer, at: number, n: number): number {
  let v = zigzag(n);
  while (v >= 0x80) {
    buffer[at++] = (v & 0x7f) | 0x80;
    v = Math.floor(v / 128);
  }
  buffer[at++] = v;
  return at;
}

function bytesSize(bytes: Buffer | null | undefined): number {
  return bytes == null ? 1 : varintSize(bytes.length) + bytes.length;
}

function writeBytes(buffer: Buffer, at: number, bytes: Buffer | null | undefined): number {
  if (bytes == null) return writeVarint(buffer, at, -1);
  at = writeVarint(buffer, at, bytes.length);
  return at + bytes.copy(buffer, at);
}

/** One record's bytes after its length prefix. */
function bodySize(m: BatchMessage, timestampDelta: number, offsetDelta: number): number {
  let size = 1 + varintSize(timestampDelta) + varintSize(offsetDelta) + bytesSize(m.key) + bytesSize(m.value) + varintSize(m.headers?.size ?? 0);
  for (const [k, v] of m.headers ?? []) size += bytesSize(k) + bytesSize(v);
  return size;
}

/** The records of `messages` one after the other, as `sizes` and `deltas` measured them. */
function writeRecords(into: Buffer, messages: readonly BatchMessage[], sizes: readonly number[], deltas: readonly number[]): void {
  let at = 0;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    at = writeVarint(into, at, sizes[i]!);
    into[at++] = 0;
    at = writeVarint(into, at, deltas[i]!);
    at = writeVarint(into, at, i);
    at = writeBytes(into, at, m.key);
    at = writeBytes(into, at, m.value);
    at = writeVarint(into, at, m.headers?.size ?? 0);
    for (const [k, v] of m.headers ?? []) at = writeBytes(into, writeBytes(into, at, k), v);
  }
}

/**
 * The record batch of `messages`, all of one partition, in order. Timestamps default to now, as
 * the client's do. With an arena its bytes are the arena's, valid until its next reset; without,
 * its own.
 */
export function encodeRecordBatch(messages: readonly BatchMessage[], options: BatchOptions = {}, arena?: BatchArena): RecordBatch {
  if (messages.length === 0) throw new Error('a record batch needs at least one message');
  const now = BigInt(Date.now());
  const firstTimestamp = messages[0]!.timestamp ?? now;
  let maxTimestamp = firstTimestamp;
  const sizes = new Array<number>(messages.length);
  const deltas = new Array<number>(messages.length);
  let total = 0;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    const ts = m.timestamp ?? now;
    if (ts > maxTimestamp) maxTimestamp = ts;
    deltas[i] = Number(ts - firstTimestamp);
    sizes[i] = bodySize(m, deltas[i]!, i);
    total += varintSize(sizes[i]!) + sizes[i]!;
  }

  const compression = total < (options.uncompressedBelow ?? 0) ? 'none' : (options.compression ?? 'none');
  const take = (size: number) => arena?.take(size) ?? Buffer.allocUnsafe(size);
  const write = (into: Buffer) => writeRecords(into, messages, sizes, deltas);
  let records: Buffer;
  if (compression === 'none') {
    records = take(total);
    write(records);
  } else if (compression === 'lz4') {
    const frame = lz4CompressInPlace(total, write);
    records = take(frame.length);
    frame.copy(records);
  } else {
    scratch.reset();
    const plain = scratch.take(total);
    write(plain);
    records = compressionsAlgorithms[compression].compressSync(plain) as Buffer;
  }

  const header = Buffer.allocUnsafe(HEADER_BYTES);
  header.writeBigInt64BE(0n, 0);
  header.writeInt32BE(HEADER_BYTES - 12 + records.length, 8);
  // partitionLeaderEpoch: the broker sets it; 0 as the client writes it.
  header.writeInt32BE(0, 12);
  header.writeInt8(MAGIC, 16);
  header.writeInt16BE(CODEC_BITS[compression] | (options.transactional === true ? IS_TRANSACTIONAL : 0), 21);
  header.writeInt32BE(messages.length - 1, 23);
  header.writeBigInt64BE(firstTimestamp, 27);
  header.writeBigInt64BE(maxTimestamp, 35);
  header.writeBigInt64BE(options.producerId ?? -1n, 43);
  header.writeInt16BE(options.producerEpoch ?? 0, 51);
  header.writeInt32BE(options.firstSequence ?? 0, 53);
  header.writeInt32BE(messages.length, 57);
  header.writeUInt32BE(crc32c(records, crc32c(header.subarray(CRC_FROM))), 17);
  return { header, records, length: HEADER_BYTES + records.length };
}
