// Where each top-level field of a record's datum lies, found without decoding it. Avro writes a
// record as its fields one after the other, so a datum of the record minus some fields is the kept
// fields' bytes, in order: a light message (no cutouts, no histories) is cut out of the stored
// datum instead of being decoded into objects and encoded again (BENCHMARKS.md, User filters: the
// light re-encode was a fifth of what a user filter's lone light message cost). The walk reads
// only lengths, counts and union branches, over the parsed avsc type.
import type { AvroType, AvscTypeParts } from './schema.ts';

/** Skips one value at `at` in `buf`, returning where the next begins. */
type Skip = (buf: Buffer, at: number) => number;

/** A datum that does not hold its schema's shape (truncated, or a bad branch): the caller decodes it as before. */
export class SpanError extends Error {}

/** A varint's end. */
function skipVarint(buf: Buffer, at: number): number {
  while (at < buf.length && (buf[at]! & 0x80) !== 0) at++;
  if (at >= buf.length) throw new SpanError('datum ends inside a varint');
  return at + 1;
}

/**
 * Where the last count read by readCount ended. A module variable rather than a returned pair: the
 * walk reads a count for every string, bytes, union branch and block of a datum (thousands in a
 * Rubin alert's histories), and a pair each was most of what cutting a light value allocated.
 */
let countEnd = 0;

/** A zig-zag long that counts something (a length, a block count, a branch); where it ends is left in countEnd. */
function readCount(buf: Buffer, at: number): number {
  let value = 0;
  let scale = 1;
  for (;;) {
    if (at >= buf.length) throw new SpanError('datum ends inside a varint');
    const byte = buf[at++]!;
    value += (byte & 0x7f) * scale;
    if ((byte & 0x80) === 0) break;
    scale *= 128;
  }
  countEnd = at;
  return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
}

function skipBytes(buf: Buffer, at: number): number {
  const length = readCount(buf, at);
  const from = countEnd;
  if (length < 0 || from + length > buf.length) throw new SpanError('datum ends inside bytes');
  return from + length;
}

const FIXED_WIDTH: Readonly<Record<string, number>> = { null: 0, boolean: 1, float: 4, double: 8 };

/** Arrays and maps: blocks of a count (negative: followed by the block's size in bytes) until a zero count. */
function skipBlocks(item: Skip): Skip {
  return (buf, at) => {
    for (;;) {
      const count = readCount(buf, at);
      at = countEnd;
      if (count === 0) return at;
      if (count < 0) {
        const size = readCount(buf, at);
        at = countEnd + size;
        if (at > buf.length) throw new SpanError('datum ends inside a block');
        continue;
      }
      for (let i = 0; i < count; i++) at = item(buf, at);
    }
  };
}

/** The skip of a type, or undefined for a type the walk does not know. `made` holds the named types' skips (they may recur). */
function skipOf(type: AvroType, made: Map<AvroType, Skip>): Skip | undefined {
  const done = made.get(type);
  if (done !== undefined) return done;
  const t = type as unknown as AvscTypeParts;
  const width = FIXED_WIDTH[t.typeName];
  if (width !== undefined) {
    return (buf, at) => {
      if (at + width > buf.length) throw new SpanError('datum ends inside a value');
      return at + width;
    };
  }
  switch (t.typeName) {
    case 'int': case 'long': case 'abstract:long': case 'enum': return skipVarint;
    case 'bytes': case 'string': return skipBytes;
    case 'fixed': {
      const size = t.size!;
      return (buf, at) => {
        if (at + size > buf.length) throw new SpanError('datum ends inside a fixed');
        return at + size;
      };
    }
    case 'array': case 'map': {
      const items = skipOf(t.typeName === 'array' ? t.itemsType! : t.valuesType!, made);
      if (items === undefined) return undefined;
      return skipBlocks(t.typeName === 'array' ? items : (buf, at) => items(buf, skipBytes(buf, at)));
    }
    case 'union:unwrapped': case 'union:wrapped': {
      const branches = t.types!.map((b) => skipOf(b, made));
      if (branches.some((b) => b === undefined)) return undefined;
      return (buf, at) => {
        const branch = readCount(buf, at);
        const skip = branches[branch];
        if (skip === undefined) throw new SpanError(`union branch ${branch} out of range`);
        return skip(buf, countEnd);
      };
    }
    case 'record': case 'error': {
      // Registered before its fields: a field may name the record itself.
      let fields: Skip[] = [];
      const skip: Skip = (buf, at) => {
        for (let i = 0; i < fields.length; i++) at = fields[i]!(buf, at);
        return at;
      };
      made.set(type, skip);
      const parts = t.fields!.map((f) => skipOf(f.type, made));
      if (parts.some((p) => p === undefined)) return undefined;
      fields = parts as Skip[];
      return skip;
    }
    default:
      return undefined;
  }
}

/**
 * For a record type, a function giving the end of each top-level field of a datum (ends[i]: where
 * field i ends; field 0 starts at 0), or undefined when the type holds a kind the walk does not
 * know. The function throws SpanError for a datum that does not hold the shape.
 */
export function fieldEnds(record: AvroType): ((datum: Buffer) => number[]) | undefined {
  const t = record as unknown as AvscTypeParts;
  if (t.typeName !== 'record' || t.fields === undefined) return undefined;
  const made = new Map<AvroType, Skip>();
  const skips = t.fields.map((f) => skipOf(f.type, made));
  if (skips.some((s) => s === undefined)) return undefined;
  const fields = skips as Skip[];
  return (datum) => {
    const ends = new Array<number>(fields.length);
    let at = 0;
    for (let i = 0; i < fields.length; i++) ends[i] = at = fields[i]!(datum, at);
    if (at !== datum.length) throw new SpanError(`${datum.length - at} bytes after the datum`);
    return ends;
  };
}
