// A cutout as a greyscale PNG: an asinh stretch between percentile cuts, so that faint structure
// and a bright core both show. The difference image gets a symmetric scale around zero, so that
// positive and negative residuals read alike (zero is mid-grey).
import { encode } from 'fast-png';
import type { FitsImage } from './fits.ts';

const SOFTENING = 10;

/** The value below which a fraction `q` of the finite pixels lie (sorted copy, nearest rank). */
function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))]!;
}

function finiteSorted(values: Float64Array): Float64Array {
  return values.filter(Number.isFinite).sort();
}

/** Each pixel mapped to [0, 1]; NaN where the pixel is blank. */
export function stretch(image: FitsImage, symmetric: boolean): Float64Array {
  const sorted = finiteSorted(image.pixels);
  const out = new Float64Array(image.pixels.length);
  const norm = Math.asinh(SOFTENING);
  if (symmetric) {
    const median = percentile(sorted, 0.5);
    const spread = percentile(finiteSorted(sorted.map((v) => Math.abs(v - median))), 0.995) || 1;
    for (let i = 0; i < out.length; i++) {
      const x = Math.max(-1, Math.min(1, (image.pixels[i]! - median) / spread));
      out[i] = 0.5 + 0.5 * (Math.asinh(SOFTENING * x) / norm);
    }
  } else {
    const lo = percentile(sorted, 0.005);
    const hi = percentile(sorted, 0.995);
    const range = hi > lo ? hi - lo : 1;
    for (let i = 0; i < out.length; i++) {
      const x = Math.max(0, Math.min(1, (image.pixels[i]! - lo) / range));
      out[i] = Math.asinh(SOFTENING * x) / norm;
    }
  }
  return out;
}

/** PNG bytes of a cutout, north up as FITS draws it (the first FITS row at the bottom). */
export function cutoutPng(image: FitsImage, kind: 'science' | 'template' | 'difference'): Uint8Array {
  const values = stretch(image, kind === 'difference');
  const { width, height } = image;
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = values[(height - 1 - y) * width + x]!;
      data[y * width + x] = Number.isNaN(v) ? 0 : Math.round(v * 255);
    }
  }
  return encode({ width, height, data, depth: 8, channels: 1 });
}
