// Checking a datum's bytes against its schema before avsc decodes them. avsc trusts the counts it
// reads: an array or map block that says 2^31 items makes it allocate and loop that many times
// whatever the bytes that follow, so a 120-byte datum can take all the memory there is. This walk
// allocates nothing, and refuses a count that the bytes left cannot hold (each item takes at least
// its type's smallest encoding) or that goes past a budget of items for the whole datum (which also
// bounds items of types that take no bytes at all, like null or an empty record). Items are not all
// that can take no bytes: a record of nulls, or named records nested inside each other, each level
// multiplying the last, decode into objects from nothing. So the walk also charges what decoding
// builds (each record, field and item) against a budget that grows with the datum's bytes, and a
// schema whose expansion without arrays (named types inlined) passes a limit is refused before any
// datum is walked. A datum that passes is decoded by avsc in memory proportional to its bytes.
import { FinkError } from '../errors.ts';
import type { AvroType, AvscTypeParts } from './schema.ts';

/** Bytes that do not form a datum of the schema, or that go past the limits below. */
export class DatumError extends FinkError {
  constructor(message: string) {
    super(message, { code: 'FINK_DATUM' });
    this.name = 'DatumError';
  }
}

export interface DatumLimits {
  /** Array and map items in one datum, all nesting levels together. */
  maxItems: number;
  /** Nesting of records, arrays, maps and unions (only recursive schemas nest deeper than they are written). */
  maxDepth: number;
  /** Values decoding builds (records, their fields, array items, map entries) in one datum, whatever its size. */
  maxValues: number;
  /** Values a datum may build beyond `valuesPerByte` per byte it takes (see below). */
  valuesBase: number;
  valuesPerByte: number;
  /** Nodes of a schema with its named types inlined and each array or map counted once. */
  maxExpansion: number;
}

// Real alerts hold a few thousand items at most (a year of a source's history); a million is far
// above that and still decodes within a few tens of MB. Every value of a real alert but a few
// records takes a byte or more (a union's branch index at least), so real alerts build about one
// value per byte; four per byte plus a few thousand leaves a wide margin, and keeps the work of a
// file of alerts linear in its bytes (a datum may not build two million values from a few bytes,
// the next one doing the same; real alerts build at most one value per byte). The largest real
// schema (Fink's Rubin distribution) expands to about 1,400 nodes, Rubin's own to 1,100, ZTF's to 600.
export const DATUM_LIMITS: DatumLimits = { maxItems: 1_000_000, maxDepth: 100, maxValues: 4_000_000, valuesBase: 4096, valuesPerByte: 4, maxExpansion: 100_000 };

interface Walk {
  buf: Uint8Array;
  end: number;
  items: number;
  depth: number;
  /** Values built so far, and the most the walk may build (see checkDatum). */
  start: number;
  values: number;
  valueCap: number;
  limits: DatumLimits;
  /** Where each count and length starts, when asked for (see sizePositions). */
  positions: number[] | null;
  /** The value of the last varint read (see varint). */
  read: number;
}

/** Skips one value at `pos`, returning the position after it; throws DatumError. */
type Skip = (w: Walk, pos: number) => number;

interface Compiled {
  skip: Skip;
  /** The fewest bytes a value of the type takes. */
  min: number;
}

// Reads an Avro varint (zig-zag) as a JS number into w.read, the 10 bytes of a long at most, and
// returns the position after it. `what` (after `of`) names it in an error; nothing is built
// otherwise: a Rubin alert has tens of thousands of union indexes.
function varint(w: Walk, pos: number, what: string, of = ''): number {
  let result = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= w.end) throw new DatumError(`cut short (ends inside ${of}${what})`);
    const byte = w.buf[pos++]!;
    result += (byte & 0x7f) * scale;
    if ((byte & 0x80) === 0) {
      w.read = result % 2 === 0 ? result / 2 : -(result + 1) / 2;
      return pos;
    }
    scale *= 128;
  }
  throw new DatumError(`corrupt (${of}${what} takes more than 10 bytes)`);
}

function skipVarint(w: Walk, pos: number, maxBytes: number, what: string): number {
  for (let i = 0; i < maxBytes; i++) {
    if (pos >= w.end) throw new DatumError(`cut short (ends inside ${what})`);
    if ((w.buf[pos++]! & 0x80) === 0) return pos;
  }
  throw new DatumError(`corrupt (${what} takes more than ${maxBytes} bytes)`);
}

function fixedSize(w: Walk, pos: number, size: number, what: string): number {
  if (size > w.end - pos) throw new DatumError(`cut short (ends inside ${what})`);
  return pos + size;
}

function lengthPrefixed(w: Walk, pos: number, what: string): number {
  w.positions?.push(pos);
  const at = varint(w, pos, what, 'the length of ');
  const len = w.read;
  if (len < 0) throw new DatumError(`corrupt (${what} of negative length ${len})`);
  if (len > w.end - at) throw new DatumError(`cut short (${what} of ${len} bytes, ${w.end - at} left)`);
  return at + len;
}

function charge(w: Walk, n: number): void {
  w.values += n;
  if (w.values > w.valueCap) throw new DatumError(`builds more than ${w.valueCap} values (records, fields, array or map items) from at most ${w.end - w.start} bytes`);
}

/** Array and map items, block by block: each count checked before any item is walked. */
function blocks(w: Walk, pos: number, what: string, itemMin: number, item: Skip): number {
  if (++w.depth > w.limits.maxDepth) throw new DatumError(`nested more than ${w.limits.maxDepth} levels deep`);
  for (;;) {
    w.positions?.push(pos);
    pos = varint(w, pos, `${what} block`, 'the count of ');
    let count = w.read;
    if (count === 0) break;
    if (count < 0) {
      count = -count;
      pos = varint(w, pos, `${what} block`, 'the size of ');
      const size = w.read;
      if (size < 0 || size > w.end - pos) throw new DatumError(`corrupt (${what} block of ${size} bytes, ${w.end - pos} left)`);
    }
    if (count * itemMin > w.end - pos) throw new DatumError(`corrupt (${what} block says ${count} items, more than the ${w.end - pos} bytes left can hold)`);
    w.items += count;
    if (w.items > w.limits.maxItems) throw new DatumError(`more than ${w.limits.maxItems} array or map items in one datum`);
    charge(w, count);
    for (let i = 0; i < count; i++) pos = item(w, pos);
  }
  w.depth--;
  return pos;
}

const compiled = new WeakMap<AvroType, Compiled>();

function compile(type: AvroType): Compiled {
  const hit = compiled.get(type);
  if (hit !== undefined) return hit;
  const t = type as unknown as AvscTypeParts;
  switch (t.typeName) {
    case 'null': return remember(type, { min: 0, skip: (_w, pos) => pos });
    case 'boolean': return remember(type, { min: 1, skip: (w, pos) => fixedSize(w, pos, 1, 'a boolean') });
    case 'int': return remember(type, { min: 1, skip: (w, pos) => skipVarint(w, pos, 5, 'an int') });
    case 'long':
    case 'abstract:long': // the bigint long of schema.ts, encoded as any long
      return remember(type, { min: 1, skip: (w, pos) => skipVarint(w, pos, 10, 'a long') });
    case 'float': return remember(type, { min: 4, skip: (w, pos) => fixedSize(w, pos, 4, 'a float') });
    case 'double': return remember(type, { min: 8, skip: (w, pos) => fixedSize(w, pos, 8, 'a double') });
    case 'string': return remember(type, { min: 1, skip: (w, pos) => lengthPrefixed(w, pos, 'a string') });
    case 'bytes': return remember(type, { min: 1, skip: (w, pos) => lengthPrefixed(w, pos, 'a bytes value') });
    case 'fixed': {
      const size = t.size!;
      return remember(type, { min: size, skip: (w, pos) => fixedSize(w, pos, size, `a fixed of ${size} bytes`) });
    }
    case 'enum': {
      const n = t.symbols!.length;
      return remember(type, {
        min: 1,
        skip: (w, pos) => {
          const at = varint(w, pos, 'an enum index');
          const index = w.read;
          if (index < 0 || index >= n) throw new DatumError(`corrupt (enum index ${index}, the enum has ${n} symbols)`);
          return at;
        },
      });
    }
    case 'record':
    case 'error': {
      // Registered before its fields are compiled: a record may contain itself (through a union or
      // an array, which is where the walk's depth limit applies). Its size counts 0 meanwhile.
      const self: Compiled = { min: 0, skip: () => 0 };
      compiled.set(type, self);
      const fields = t.fields!.map((f) => compile(f.type));
      self.min = fields.reduce((sum, f) => sum + f.min, 0);
      const skips = fields.map((f) => f.skip);
      const built = 1 + skips.length;
      self.skip = (w, pos) => {
        charge(w, built);
        for (let i = 0; i < skips.length; i++) pos = skips[i]!(w, pos);
        return pos;
      };
      return self;
    }
    case 'array': {
      const self: Compiled = { min: 1, skip: () => 0 };
      compiled.set(type, self);
      const items = compile(t.itemsType!);
      self.skip = (w, pos) => blocks(w, pos, 'an array', items.min, items.skip);
      return self;
    }
    case 'map': {
      const self: Compiled = { min: 1, skip: () => 0 };
      compiled.set(type, self);
      const values = compile(t.valuesType!);
      const entry: Skip = (w, pos) => values.skip(w, lengthPrefixed(w, pos, 'a map key'));
      self.skip = (w, pos) => blocks(w, pos, 'a map', 1 + values.min, entry);
      return self;
    }
    case 'union:unwrapped':
    case 'union:wrapped': {
      const self: Compiled = { min: 1, skip: () => 0 };
      compiled.set(type, self);
      const branches = t.types!.map(compile);
      const n = branches.length;
      self.skip = (w, pos) => {
        const at = varint(w, pos, 'a union index');
        const index = w.read;
        if (index < 0 || index >= n) throw new DatumError(`corrupt (union index ${index}, the union has ${n} branches)`);
        if (++w.depth > w.limits.maxDepth) throw new DatumError(`nested more than ${w.limits.maxDepth} levels deep`);
        const after = branches[index]!.skip(w, at);
        w.depth--;
        return after;
      };
      self.min = 1 + Math.min(...branches.map((b) => b.min));
      return self;
    }
    default:
      // A logical type is encoded as its underlying type.
      if (t.underlyingType !== undefined) return remember(type, compile(t.underlyingType));
      throw new DatumError(`the schema has a type the check does not know: ${t.typeName}`);
  }
}

function remember(type: AvroType, c: Compiled): Compiled {
  compiled.set(type, c);
  return c;
}

const expansions = new WeakMap<AvroType, number>();

/**
 * The nodes of a schema with its named types inlined, each array or map counted with one item: what
 * a datum of empty arrays builds at most (zero bytes can build all of it). Each named type is
 * counted once and remembered, so this is linear in the schema; a type met again inside itself (a
 * recursive schema, through a union or array) counts one, its nesting being the walk's depth limit.
 */
function expansion(type: AvroType, open: Set<AvroType>): number {
  const hit = expansions.get(type);
  if (hit !== undefined) return hit;
  if (open.has(type)) return 1;
  const t = type as unknown as AvscTypeParts;
  open.add(type);
  let n = 1;
  if (t.fields !== undefined) for (const f of t.fields) n += expansion(f.type, open);
  else if (t.itemsType !== undefined) n += expansion(t.itemsType, open);
  else if (t.valuesType !== undefined) n += expansion(t.valuesType, open);
  else if (t.types !== undefined) for (const b of t.types) n += expansion(b, open);
  else if (t.underlyingType !== undefined) n = expansion(t.underlyingType, open);
  open.delete(type);
  expansions.set(type, n);
  return n;
}

/** Throws DatumError if a schema expands past the limit (see expansion): no datum of it is walked. */
export function checkSchemaSize(type: AvroType, limits: DatumLimits = DATUM_LIMITS): void {
  const n = schemaExpansion(type);
  if (n > limits.maxExpansion) {
    const name = (type as { name?: unknown }).name;
    throw new DatumError(`the schema${typeof name === 'string' ? ` '${name}'` : ''} expands to ${n > 1e15 ? 'more than 10^15' : n} values with its named types inlined (without its arrays), more than the ${limits.maxExpansion} allowed`);
  }
}

/** How many nodes a schema expands to (see expansion): what the limit is measured in. */
export function schemaExpansion(type: AvroType): number {
  // Remembered per schema: checkDatum asks for every datum.
  return expansions.get(type) ?? expansion(type, new Set());
}

/**
 * Checks that the bytes from `pos` hold one datum of `type` within `limits`, without decoding it;
 * returns where the datum ends (at most `end`). Throws DatumError with the reason: the schema
 * expands past the limit, or the bytes are not a datum of it, or the datum builds more values than
 * its bytes allow.
 */
export function checkDatum(type: AvroType, buf: Uint8Array, pos = 0, end = buf.length, limits: DatumLimits = DATUM_LIMITS): number {
  checkSchemaSize(type, limits);
  const valueCap = Math.min(limits.maxValues, limits.valuesBase + limits.valuesPerByte * (end - pos));
  const w: Walk = { buf, end, items: 0, depth: 0, start: pos, values: 0, valueCap, limits, positions: null, read: 0 };
  const after = compile(type).skip(w, pos);
  const allowed = limits.valuesBase + limits.valuesPerByte * (after - pos);
  if (w.values > allowed) throw new DatumError(`builds ${w.values} values (records, fields, array or map items) from ${after - pos} bytes, more than the ${allowed} allowed`);
  return after;
}

/** Where the counts and lengths of a valid datum start: the places a tool that corrupts data aims at. */
export function sizePositions(type: AvroType, buf: Uint8Array): number[] {
  const positions: number[] = [];
  compile(type).skip({ buf, end: buf.length, items: 0, depth: 0, start: 0, values: 0, valueCap: DATUM_LIMITS.maxValues, limits: DATUM_LIMITS, positions, read: 0 }, 0);
  return positions;
}

/** The fewest bytes a datum of `type` takes (0 for types like null or an empty record). */
export function minimumSize(type: AvroType): number {
  return compile(type).min;
}
