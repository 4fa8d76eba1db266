// A compressed record batch inflated to at most a given number of bytes. A batch's size on the
// broker is bounded by its topic's max.message.bytes, what it inflates to is not: a few KB of zstd
// or gzip become a GiB of zeros. gzip and zstd stop at the limit (zlib's maxOutputLength); lz4 and
// snappy are read by the client's own codec, which has no such limit, so what they would inflate
// to is read from the data first (an lz4 frame's block sizes, a snappy block's stated length) and
// the codec only runs when that fits.
import { compressionsAlgorithmsByBitmask } from '@platformatic/kafka';
import zlib from 'node:zlib';

/** What one batch may inflate to, as a multiple of its topic's max.message.bytes. */
export const INFLATE_FACTOR = 4;
/**
 * What a record counts against the limit, at least: a record of zeros takes 7 bytes inflated but
 * becomes objects of some 200 bytes in the client, so a batch of a few KB declaring millions of
 * empty records is a bomb too. A batch's record count is known before it is inflated.
 */
export const RECORD_COST = 64;
/** The limit for a topic whose max.message.bytes could not be read (describing configs may be denied). */
export const FALLBACK_INFLATE_LIMIT = 256 << 20;

/** The batch inflates past `limit`; `size` is what it would at least inflate to, when known. */
export class InflateLimitError extends Error {
  readonly limit: number;
  readonly size: number | undefined;
  constructor(limit: number, size: number | undefined) {
    super(`inflates to ${size === undefined ? `more than ${limit}` : size} bytes, more than the ${limit} allowed`);
    this.name = 'InflateLimitError';
    this.limit = limit;
    this.size = size;
  }
}

// lz4 frame format: the block maximum sizes by BD's bits 6-4.
const LZ4_MAGIC = 0x184d2204;
const LZ4_BLOCK_MAX: Record<number, number> = { 4: 64 << 10, 5: 256 << 10, 6: 1 << 20, 7: 4 << 20 };

/** The most that the lz4 frames in `data` can inflate to (every compressed block counted full); Infinity when unreadable. */
export function lz4Bound(data: Buffer): number {
  let at = 0;
  let total = 0;
  while (at < data.length) {
    if (at + 7 > data.length || data.readUInt32LE(at) !== LZ4_MAGIC) return Infinity;
    const flags = data[at + 4]!;
    const blockMax = LZ4_BLOCK_MAX[(data[at + 5]! >> 4) & 0x07];
    if (blockMax === undefined) return Infinity;
    at += 6 + (flags & 0x08 ? 8 : 0) + (flags & 0x01 ? 4 : 0) + 1;
    const blockChecksum = flags & 0x10 ? 4 : 0;
    for (;;) {
      if (at + 4 > data.length) return Infinity;
      const word = data.readUInt32LE(at);
      at += 4;
      if (word === 0) break;
      const size = word & 0x7fffffff;
      total += word & 0x80000000 ? size : blockMax;
      at += size + blockChecksum;
    }
    at += flags & 0x04 ? 4 : 0;
  }
  return total;
}

function varint(data: Buffer, at: number): number {
  let value = 0;
  for (let shift = 0; shift < 35 && at < data.length; shift += 7) {
    const byte = data[at++]!;
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return value;
  }
  return Infinity;
}

const XERIAL_HEADER = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);

/** What snappy data inflates to, by the length each raw block states (xerial framing: the sum over its chunks); Infinity when unreadable. */
export function snappyBound(data: Buffer): number {
  if (!data.subarray(0, XERIAL_HEADER.length).equals(XERIAL_HEADER)) return varint(data, 0);
  let total = 0;
  for (let at = 16; at < data.length; ) {
    if (at + 4 > data.length) return Infinity;
    const chunk = data.readUInt32BE(at);
    total += varint(data, at + 4);
    at += 4 + chunk;
  }
  return total;
}

/**
 * `data` compressed with the codec of a batch's attributes (1 gzip, 2 snappy, 3 lz4, 4 zstd),
 * inflated; InflateLimitError when it would exceed `limit` bytes. Other failures are the codec's.
 */
export function inflateBounded(codec: number, data: Buffer, limit: number): Buffer {
  if (codec === 1) return zlibBounded(zlib.gunzipSync, data, limit);
  if (codec === 4) return zlibBounded(zlib.zstdDecompressSync, data, limit);
  const bound = codec === 3 ? lz4Bound(data) : codec === 2 ? snappyBound(data) : 0;
  if (bound > limit) throw new InflateLimitError(limit, Number.isFinite(bound) ? bound : undefined);
  const algorithm = compressionsAlgorithmsByBitmask[codec];
  if (algorithm === undefined) throw new Error(`unknown compression ${codec}`);
  const out = algorithm.decompressSync(data);
  if (out.length > limit) throw new InflateLimitError(limit, out.length);
  return out;
}

/** gzip and zstd: zlib stops at the limit itself (maxOutputLength). */
function zlibBounded(inflate: (data: Buffer, options: { maxOutputLength: number }) => Buffer, data: Buffer, limit: number): Buffer {
  try {
    return inflate(data, { maxOutputLength: limit });
  } catch (err) {
    throw (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' ? new InflateLimitError(limit, undefined) : err;
  }
}
