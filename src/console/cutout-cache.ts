// Rendered cutouts kept per alert and kind: a page that opens an alert again, or several pages on
// the same alert, cost one rendering. A stamp refused (too large, not FITS) is remembered as such.
import { Lru } from '../lru.ts';
import { cutoutPng } from './cutout-png.ts';
import { FitsError, readFits } from './fits.ts';

// A 1024x1024 PNG is at most about a MiB; most are a few KB.
const KEPT = 64;

export class CutoutCache {
  readonly #pngs = new Lru<string, Uint8Array | FitsError>(KEPT);

  /** The PNG of an alert's cutout, its refusal, or null when the alert has no such cutout. */
  png(alertId: string, kind: 'science' | 'template' | 'difference', bytes: () => Uint8Array | null, where: string): Uint8Array | FitsError | null {
    const key = `${alertId}\u0000${kind}`;
    const cached = this.#pngs.get(key);
    if (cached !== undefined) return cached;
    const stamp = bytes();
    if (stamp === null) return null;
    let result: Uint8Array | FitsError;
    try {
      result = cutoutPng(readFits(stamp, where), kind);
    } catch (err) {
      if (!(err instanceof FitsError)) throw err;
      result = err;
    }
    this.#pngs.set(key, result);
    return result;
  }
}
