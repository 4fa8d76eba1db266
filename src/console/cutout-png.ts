// A cutout as a greyscale PNG: an asinh stretch between percentile cuts, so that faint structure
// and a bright core both show. The difference image gets a symmetric scale around zero, so that
// positive and negative residuals read alike (zero is mid-grey).
import { encode } from 'fast-png';
import type { FitsImage } from './fits.ts';

const SOFTENING = 10;

/** The value below which a fraction `q` of the sorted values lie (nearest rank). */
function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))]!;
}

// The cuts come from at most this many pixels, evenly spread: a large image costs no full-size sorted copy.
const SAMPLE = 1 << 16;

/** The finite pixels, or an even subsample of them past SAMPLE, sorted. */
function finiteSample(values: Float64Array): Float64Array {
  const step = Math.max(1, Math.ceil(values.length / SAMPLE));
  const out = new Float64Array(Math.ceil(values.length / step));
  let n = 0;
  for (let i = 0; i < values.length; i += step) if (Number.isFinite(values[i])) out[n++] = values[i]!;
  return out.subarray(0, n).sort();
}

/** Each pixel mapped to [0, 1] (NaN where the pixel is blank), through `put`. */
function stretchInto(image: FitsImage, symmetric: boolean, put: (i: number, v: number) => void): void {
  const sorted = finiteSample(image.pixels);
  const norm = Math.asinh(SOFTENING);
  const n = image.pixels.length;
  if (symmetric) {
    const median = percentile(sorted, 0.5);
    const spread = percentile(sorted.map((v) => Math.abs(v - median)).sort(), 0.995) || 1;
    for (let i = 0; i < n; i++) {
      const x = Math.max(-1, Math.min(1, (image.pixels[i]! - median) / spread));
      put(i, 0.5 + 0.5 * (Math.asinh(SOFTENING * x) / norm));
    }
  } else {
    const lo = percentile(sorted, 0.005);
    const hi = percentile(sorted, 0.995);
    const range = hi > lo ? hi - lo : 1;
    for (let i = 0; i < n; i++) {
      const x = Math.max(0, Math.min(1, (image.pixels[i]! - lo) / range));
      put(i, Math.asinh(SOFTENING * x) / norm);
    }
  }
}

/** Each pixel mapped to [0, 1]; NaN where the pixel is blank. */
export function stretch(image: FitsImage, symmetric: boolean): Float64Array {
  const out = new Float64Array(image.pixels.length);
  stretchInto(image, symmetric, (i, v) => (out[i] = v));
  return out;
}

/** PNG bytes of a cutout, north up as FITS draws it (the first FITS row at the bottom). */
export function cutoutPng(image: FitsImage, kind: 'science' | 'template' | 'difference'): Uint8Array {
  const { width, height } = image;
  const data = new Uint8Array(width * height);
  // Written straight as bytes, flipped: FITS row r is PNG row height-1-r.
  stretchInto(image, kind === 'difference', (i, v) => {
    const y = height - 1 - Math.floor(i / width);
    data[y * width + (i % width)] = Number.isNaN(v) ? 0 : Math.round(v * 255);
  });
  return encode({ width, height, data, depth: 8, channels: 1 });
}
