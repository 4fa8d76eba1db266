// A FITS primary image read from bytes: the cutouts of an alert (gzipped for ZTF, plain for Rubin).
// Only what a cutout needs: 2880-byte header blocks of 80-character cards, a two-dimensional image
// of BITPIX 8, 16, 32, 64, -32 or -64 (big-endian), scaled by BSCALE and BZERO.
import { gunzipSync } from 'node:zlib';
import { FinkError } from '../errors.ts';

export class FitsError extends FinkError {
  constructor(message: string) {
    super(message, { code: 'FINK_FITS' });
    this.name = 'FitsError';
  }
}

export interface FitsImage {
  width: number;
  height: number;
  /** Row-major from the first FITS row (the bottom of the image as FITS draws it); blanks are NaN. */
  pixels: Float64Array;
  header: ReadonlyMap<string, string | number | boolean>;
}

const BLOCK = 2880;
const CARD = 80;
// A cutout is tens of kilobytes (63x63 for ZTF, a few hundred pixels a side for Rubin). The caps
// keep a hostile or mistaken stamp from costing the console seconds and memory: the largest image
// allowed is 1024x1024, and its file at 64 bits a pixel with a generous header fits in MAX_BYTES.
const MAX_SIDE = 1024;
const MAX_BYTES = 9 << 20;

/** The refusal of a stamp of `length` bytes, or undefined when the console shows it. */
export function oversizedStamp(length: number, where: string): FitsError | undefined {
  return length > MAX_BYTES ? new FitsError(`${where}: a FITS stamp of ${length} bytes is refused (the console shows stamps of ${MAX_BYTES >> 20} MiB at most)`) : undefined;
}

function cardValue(text: string): string | number | boolean {
  const raw = text.trim();
  if (raw.startsWith("'")) {
    const end = raw.indexOf("'", 1);
    return raw.slice(1, end < 0 ? undefined : end).trimEnd();
  }
  const value = raw.split('/')[0]!.trim();
  if (value === 'T') return true;
  if (value === 'F') return false;
  const n = Number(value.replace(/D/i, 'E'));
  return Number.isNaN(n) ? value : n;
}

/** The header cards up to END, and where the data starts. */
function readHeader(bytes: Uint8Array, where: string): { header: Map<string, string | number | boolean>; dataStart: number } {
  const header = new Map<string, string | number | boolean>();
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 0; at + CARD <= bytes.length; at += CARD) {
    const card = text.toString('latin1', at, at + CARD);
    const key = card.slice(0, 8).trim();
    if (at === 0 && key !== 'SIMPLE') throw new FitsError(`${where}: not a FITS file (it does not start with SIMPLE)`);
    if (key === 'END') return { header, dataStart: Math.ceil((at + CARD) / BLOCK) * BLOCK };
    if (card[8] === '=' && card[9] === ' ' && !header.has(key)) header.set(key, cardValue(card.slice(10)));
  }
  throw new FitsError(`${where}: the FITS header has no END card within its ${bytes.length} bytes`);
}

function intKey(header: ReadonlyMap<string, unknown>, key: string, where: string): number {
  const value = header.get(key);
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new FitsError(`${where}: FITS key ${key} is missing or not an integer`);
  return value;
}

/** Reads a FITS image, gunzipping it first when it starts with the gzip magic. */
export function readFits(input: Uint8Array, where = 'cutout'): FitsImage {
  let bytes = input;
  const big = oversizedStamp(bytes.length, where);
  if (big !== undefined) throw big;
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes, { maxOutputLength: MAX_BYTES });
    } catch (err) {
      const tooLarge = (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
      throw new FitsError(tooLarge ? `${where}: the gzipped FITS inflates past ${MAX_BYTES >> 20} MiB, refused` : `${where}: the gzipped FITS does not inflate (${(err as Error).message})`);
    }
  }
  const { header, dataStart } = readHeader(bytes, where);
  const bitpix = intKey(header, 'BITPIX', where);
  const naxis = intKey(header, 'NAXIS', where);
  if (naxis !== 2) throw new FitsError(`${where}: a cutout has two axes, this FITS image has NAXIS=${naxis}`);
  const width = intKey(header, 'NAXIS1', where);
  const height = intKey(header, 'NAXIS2', where);
  if (width < 1 || height < 1 || width > MAX_SIDE || height > MAX_SIDE) throw new FitsError(`${where}: a FITS image of ${width}x${height} pixels is refused (the console shows cutouts of ${MAX_SIDE}x${MAX_SIDE} at most)`);
  const size = Math.abs(bitpix) / 8;
  if (![8, 16, 32, 64, -32, -64].includes(bitpix)) throw new FitsError(`${where}: BITPIX=${bitpix} is not a FITS pixel type`);
  const need = dataStart + width * height * size;
  if (bytes.length < need) throw new FitsError(`${where}: the FITS data is cut short (${bytes.length} bytes, ${need} needed for ${width}x${height} at BITPIX=${bitpix})`);
  const scale = typeof header.get('BSCALE') === 'number' ? (header.get('BSCALE') as number) : 1;
  const zero = typeof header.get('BZERO') === 'number' ? (header.get('BZERO') as number) : 0;
  const blank = bitpix > 0 && typeof header.get('BLANK') === 'number' ? (header.get('BLANK') as number) : undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset + dataStart, width * height * size);
  const read: (i: number) => number =
    bitpix === 8 ? (i) => view.getUint8(i)
    : bitpix === 16 ? (i) => view.getInt16(i * 2)
    : bitpix === 32 ? (i) => view.getInt32(i * 4)
    : bitpix === 64 ? (i) => Number(view.getBigInt64(i * 8))
    : bitpix === -32 ? (i) => view.getFloat32(i * 4)
    : (i) => view.getFloat64(i * 8);
  const pixels = new Float64Array(width * height);
  for (let i = 0; i < pixels.length; i++) {
    const raw = read(i);
    pixels[i] = raw === blank ? NaN : zero + scale * raw;
  }
  return { width, height, pixels, header };
}
