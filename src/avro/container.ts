// Avro Object Container Files, read block by block so that each datum's bytes can be kept exactly
// as they arrived (avsc's file decoder hands out decoded values only), and written from raw datums.
import { randomBytes } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { AvroSchema } from './schema.ts';
import { FinkError } from '../errors.ts';

const MAGIC = Buffer.from([0x4f, 0x62, 0x6a, 0x01]); // "Obj" 1

/** A byte sequence that is not a readable Avro container file, with the reason. */
export class ContainerError extends FinkError {
  constructor(message: string) {
    super(message, { code: 'FINK_AVRO_CONTAINER' });
    this.name = 'ContainerError';
  }
}

export interface ContainerBlock {
  /** Number of datums in the block, as its header says. */
  count: number;
  /** The datums, concatenated, decompressed. */
  data: Buffer;
}

export interface Container {
  schema: AvroSchema;
  codec: string;
  blocks(): Generator<ContainerBlock>;
}

/** Reads a zig-zag varint long that must fit a JS number (sizes and counts). */
function readSize(buf: Buffer, pos: number): [number, number] {
  let result = 0;
  let shift = 1;
  let byte: number;
  do {
    if (pos >= buf.length) throw new ContainerError('truncated (ends inside a length)');
    byte = buf[pos++]!;
    result += (byte & 0x7f) * shift;
    shift *= 128;
    if (shift > 2 ** 56) throw new ContainerError('corrupt (a length is too large)');
  } while (byte & 0x80);
  const value = result % 2 === 0 ? result / 2 : -(result + 1) / 2;
  return [value, pos];
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

function readBytes(buf: Buffer, pos: number): [Buffer, number] {
  const [len, start] = readSize(buf, pos);
  if (len < 0 || start + len > buf.length) throw new ContainerError('truncated (ends inside the header)');
  return [buf.subarray(start, start + len), start + len];
}

/** Parses a container's header; blocks are decoded lazily. Throws ContainerError with the reason. */
export function readContainer(buf: Buffer): Container {
  if (buf.length < 4 || !buf.subarray(0, 4).equals(MAGIC)) throw new ContainerError('not an Avro container file (no "Obj\\x01" magic)');
  let pos = 4;
  const meta = new Map<string, Buffer>();
  for (;;) {
    let count: number;
    [count, pos] = readSize(buf, pos);
    if (count === 0) break;
    if (count < 0) {
      count = -count;
      [, pos] = readSize(buf, pos); // byte size of the block, not needed
    }
    for (let i = 0; i < count; i++) {
      let key: Buffer;
      let value: Buffer;
      [key, pos] = readBytes(buf, pos);
      [value, pos] = readBytes(buf, pos);
      meta.set(key.toString('utf8'), value);
    }
  }
  if (pos + 16 > buf.length) throw new ContainerError('truncated (ends inside the header)');
  const sync = buf.subarray(pos, pos + 16);
  pos += 16;
  const schemaText = meta.get('avro.schema');
  if (schemaText === undefined) throw new ContainerError('no avro.schema in the header');
  let schema: AvroSchema;
  try {
    schema = JSON.parse(schemaText.toString('utf8')) as AvroSchema;
  } catch (err) {
    throw new ContainerError(`the header's schema is not JSON: ${(err as Error).message}`);
  }
  const codec = meta.get('avro.codec')?.toString('utf8') ?? 'null';
  if (codec !== 'null' && codec !== 'deflate') throw new ContainerError(`unsupported codec '${codec}' (null and deflate are)`);
  const first = pos;
  return {
    schema,
    codec,
    *blocks() {
      let at = first;
      let index = 0;
      while (at < buf.length) {
        let count: number;
        let size: number;
        [count, at] = readSize(buf, at);
        [size, at] = readSize(buf, at);
        if (count < 0 || size < 0) throw new ContainerError(`corrupt block ${index}`);
        if (at + size + 16 > buf.length) throw new ContainerError(`truncated (block ${index} is cut short)`);
        const raw = buf.subarray(at, at + size);
        at += size;
        if (!buf.subarray(at, at + 16).equals(sync)) throw new ContainerError(`corrupt (block ${index} is not followed by the sync marker)`);
        at += 16;
        let data: Buffer;
        try {
          data = codec === 'deflate' ? inflateRawSync(raw) : raw;
        } catch (err) {
          throw new ContainerError(`corrupt (block ${index} does not inflate: ${(err as Error).message})`);
        }
        yield { count, data };
        index++;
      }
    },
  };
}

/** Writes raw datums (already encoded with `schema`) as a container file, in blocks of `perBlock`. */
export function encodeContainer(schema: AvroSchema, datums: readonly Uint8Array[], options: { codec?: 'null' | 'deflate'; perBlock?: number } = {}): Buffer {
  const codec = options.codec ?? 'null';
  const perBlock = options.perBlock ?? 100;
  const sync = randomBytes(16);
  const head: number[] = [];
  const entries: [string, Buffer][] = [['avro.schema', Buffer.from(JSON.stringify(schema))], ['avro.codec', Buffer.from(codec)]];
  writeSize(entries.length, head);
  const parts: Buffer[] = [MAGIC];
  for (const [key, value] of entries) {
    const k = Buffer.from(key);
    writeSize(k.length, head);
    parts.push(Buffer.from(head.splice(0)), k);
    writeSize(value.length, head);
    parts.push(Buffer.from(head.splice(0)), value);
  }
  writeSize(0, head);
  parts.push(Buffer.from(head.splice(0)), sync);
  for (let i = 0; i < datums.length; i += perBlock) {
    const slice = datums.slice(i, i + perBlock);
    const joined = Buffer.concat(slice);
    const body = codec === 'deflate' ? deflateRawSync(joined) : joined;
    writeSize(slice.length, head);
    writeSize(body.length, head);
    parts.push(Buffer.from(head.splice(0)), body, sync);
  }
  return Buffer.concat(parts);
}
