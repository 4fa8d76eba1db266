// Avro Object Container Files, read block by block so that each datum's bytes can be kept exactly
// as they arrived, and written from raw datums. avsc's BlockDecoder hands out either decoded values
// or (with noDecode) raw bytes, as a stream; the store needs both of each datum, from one
// synchronous pass over the block that yields the value together with its bytes.
// A file is read sequentially from its source, one block in memory at a time, and every size it
// states is checked against a limit before anything of that size is allocated: a file of any length
// takes memory bounded by the largest block, and a deflate block that would inflate to gigabytes is
// refused once it passes the limit.
import { randomBytes } from 'node:crypto';
import { readSync } from 'node:fs';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { FinkError } from '../errors.ts';
import type { AvroSchema } from './schema.ts';

const MAGIC = Buffer.from([0x4f, 0x62, 0x6a, 0x01]); // "Obj" 1
const MiB = 1 << 20;

export class ContainerError extends FinkError {
  constructor(message: string) {
    super(message, { code: 'FINK_CONTAINER' });
    this.name = 'ContainerError';
  }
}

export interface ContainerLimits {
  /** The header's metadata (the schema is in it). */
  maxHeaderBytes: number;
  /** A block as stored, and again once inflated. */
  maxBlockBytes: number;
}

// Writers close a block every 16-64 KB of data by default (Java, fastavro, avsc): 16 MiB leaves
// room for some seventy of the largest alerts (Rubin's, ~230 KB) in one block. A refused deflate
// bomb leaves that much garbage behind, so the limit is also what keeps peak memory low (with 32
// MiB, 20,000 fuzz cases peaked at 319 MB).
export const CONTAINER_LIMITS: ContainerLimits = { maxHeaderBytes: 16 * MiB, maxBlockBytes: 16 * MiB };

export interface ContainerBlock {
  /** Position of the block in the file, from 0. */
  index: number;
  /** Number of datums in the block, as its header says (not checked against the data). */
  count: number;
  /** The datums, concatenated, decompressed. */
  data: Buffer;
}

export interface Container {
  schema: AvroSchema;
  /** The schema as the header holds it (a cache key that costs nothing to compute). */
  schemaText: string;
  codec: string;
  blocks(): Generator<ContainerBlock>;
}

/** Where a container's bytes come from: `read` fills `into` from `position`, returns the count (0 at the end). */
export interface ByteSource {
  read(into: Buffer, position: number): number;
}

export function bufferSource(buf: Uint8Array): ByteSource {
  return {
    read: (into, position) => (position >= buf.length ? 0 : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).copy(into, 0, position)),
  };
}

export function fileSource(fd: number): ByteSource {
  return { read: (into, position) => readSync(fd, into, 0, into.length, position) };
}

const CHUNK = 64 * 1024;

/** Sequential reading through a small window; large spans are read straight into their buffer. */
class Cursor {
  readonly #source: ByteSource;
  readonly #window = Buffer.allocUnsafe(CHUNK);
  #len = 0;
  #at = 0;
  /** Position in the source of the window's first byte. */
  #base = 0;

  constructor(source: ByteSource) {
    this.#source = source;
  }

  atEnd(): boolean {
    if (this.#at < this.#len) return false;
    this.#base += this.#len;
    this.#len = this.#source.read(this.#window, this.#base);
    this.#at = 0;
    return this.#len === 0;
  }

  byte(where: string): number {
    if (this.atEnd()) throw new ContainerError(`truncated (ends inside ${where})`);
    return this.#window[this.#at++]!;
  }

  take(n: number, where: string): Buffer {
    const out = Buffer.allocUnsafe(n);
    let got = 0;
    while (got < n) {
      if (this.#at >= this.#len && n - got >= CHUNK) {
        const read = this.#source.read(out.subarray(got), this.#base + this.#len);
        if (read === 0) throw new ContainerError(`truncated (ends inside ${where})`);
        this.#base += this.#len + read;
        this.#len = 0;
        this.#at = 0;
        got += read;
        continue;
      }
      if (this.atEnd()) throw new ContainerError(`truncated (ends inside ${where})`);
      const k = Math.min(n - got, this.#len - this.#at);
      this.#window.copy(out, got, this.#at, this.#at + k);
      this.#at += k;
      got += k;
    }
    return out;
  }

  /** A zig-zag varint long that must fit a JS number (sizes and counts). */
  size(where: string): number {
    let result = 0;
    let scale = 1;
    let byte: number;
    do {
      byte = this.byte(where);
      result += (byte & 0x7f) * scale;
      scale *= 128;
      if (scale > 2 ** 56) throw new ContainerError(`corrupt (${where} is too large)`);
    } while (byte & 0x80);
    return result % 2 === 0 ? result / 2 : -(result + 1) / 2;
  }
}

function writeSize(n: number, out: number[]): void {
  let z = n >= 0 ? n * 2 : -n * 2 - 1;
  do {
    let byte = z % 128;
    z = Math.floor(z / 128);
    if (z > 0) byte |= 0x80;
    out.push(byte);
  } while (z > 0);
}

const mib = (n: number) => `${n / MiB} MiB`;

function readHeader(cursor: Cursor, limits: ContainerLimits): Map<string, Buffer> {
  const meta = new Map<string, Buffer>();
  let budget = limits.maxHeaderBytes;
  const bytes = (what: string): Buffer => {
    const len = cursor.size('the header');
    if (len < 0) throw new ContainerError(`corrupt (a header ${what} of negative length)`);
    if (len > budget) throw new ContainerError(`the header is larger than ${mib(limits.maxHeaderBytes)}`);
    budget -= len;
    return cursor.take(len, 'the header');
  };
  for (;;) {
    let count = cursor.size('the header');
    if (count === 0) break;
    if (count < 0) {
      count = -count;
      cursor.size('the header'); // byte size of the block, not needed
    }
    // Each entry takes two length bytes at least.
    if (count * 2 > budget) throw new ContainerError(`the header is larger than ${mib(limits.maxHeaderBytes)}`);
    budget -= count * 2;
    for (let i = 0; i < count; i++) {
      const key = bytes('key').toString('utf8');
      meta.set(key, bytes('value'));
    }
  }
  return meta;
}

/**
 * Parses a container's header; blocks are read and checked lazily, one at a time, in order (the
 * generator can be run once). Throws ContainerError with the reason.
 */
export function readContainer(input: Uint8Array | ByteSource, limits: ContainerLimits = CONTAINER_LIMITS): Container {
  const cursor = new Cursor(input instanceof Uint8Array ? bufferSource(input) : input);
  const magic: number[] = [];
  while (magic.length < 4 && !cursor.atEnd()) magic.push(cursor.byte('the magic'));
  if (!Buffer.from(magic).equals(MAGIC)) throw new ContainerError('not an Avro container file (no "Obj\\x01" magic)');
  const meta = readHeader(cursor, limits);
  const sync = cursor.take(16, 'the header');
  const schemaBytes = meta.get('avro.schema');
  if (schemaBytes === undefined) throw new ContainerError('no avro.schema in the header');
  const schemaText = schemaBytes.toString('utf8');
  let schema: AvroSchema;
  try {
    schema = JSON.parse(schemaText) as AvroSchema;
  } catch (err) {
    throw new ContainerError(`the header's schema is not JSON: ${(err as Error).message}`);
  }
  const codec = meta.get('avro.codec')?.toString('utf8') ?? 'null';
  if (codec !== 'null' && codec !== 'deflate') throw new ContainerError(`unsupported codec '${codec}' (null and deflate are)`);
  return {
    schema,
    schemaText,
    codec,
    *blocks() {
      for (let index = 0; !cursor.atEnd(); index++) {
        const count = cursor.size(`the header of block ${index}`);
        const size = cursor.size(`the header of block ${index}`);
        if (count < 0 || size < 0) throw new ContainerError(`corrupt block ${index}`);
        if (size > limits.maxBlockBytes) throw new ContainerError(`block ${index} takes ${size} bytes, more than the ${mib(limits.maxBlockBytes)} a block may`);
        const raw = cursor.take(size, `block ${index}`);
        if (!cursor.take(16, `block ${index}`).equals(sync)) throw new ContainerError(`corrupt (block ${index} is not followed by the sync marker)`);
        yield { index, count, data: codec === 'deflate' ? inflateBlock(raw, index, limits.maxBlockBytes) : raw };
      }
    },
  };
}

function inflateBlock(raw: Buffer, index: number, max: number): Buffer {
  try {
    return inflateRawSync(raw, { maxOutputLength: max });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new ContainerError(`block ${index} inflates to more than the ${mib(max)} a block may take`);
    throw new ContainerError(`corrupt (block ${index} does not inflate: ${(err as Error).message})`);
  }
}

/** Writes raw datums (already encoded with `schema`) as a container file, in blocks of `perBlock`. */
export function encodeContainer(schema: AvroSchema, datums: readonly Uint8Array[], options: { codec?: 'null' | 'deflate'; perBlock?: number } = {}): Buffer {
  const codec = options.codec ?? 'null';
  const perBlock = options.perBlock ?? 100;
  const blocks: { count: number; body: Uint8Array }[] = [];
  for (let i = 0; i < datums.length; i += perBlock) {
    const slice = datums.slice(i, i + perBlock);
    const joined = Buffer.concat(slice);
    blocks.push({ count: slice.length, body: codec === 'deflate' ? deflateRawSync(joined) : joined });
  }
  return encodeContainerBlocks(schema, codec, blocks);
}

/**
 * Writes blocks already encoded (and compressed with `codec`) as a container file, each with the
 * count it says: the writer of encodeContainer, and of files that test what a reader accepts.
 */
export function encodeContainerBlocks(schema: AvroSchema | string, codec: string, blocks: readonly { count: number; body: Uint8Array }[]): Buffer {
  const sync = randomBytes(16);
  const head: number[] = [];
  const text = typeof schema === 'string' ? schema : JSON.stringify(schema);
  const entries: [string, Buffer][] = [['avro.schema', Buffer.from(text)], ['avro.codec', Buffer.from(codec)]];
  writeSize(entries.length, head);
  const parts: Uint8Array[] = [MAGIC];
  for (const [key, value] of entries) {
    const k = Buffer.from(key);
    writeSize(k.length, head);
    parts.push(Buffer.from(head.splice(0)), k);
    writeSize(value.length, head);
    parts.push(Buffer.from(head.splice(0)), value);
  }
  writeSize(0, head);
  parts.push(Buffer.from(head.splice(0)), sync);
  for (const { count, body } of blocks) {
    writeSize(count, head);
    writeSize(body.length, head);
    parts.push(Buffer.from(head.splice(0)), body, sync);
  }
  return Buffer.concat(parts);
}
