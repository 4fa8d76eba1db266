// Rubin: bright new sources. A first detection (no previous source of its object) brighter than
// magnitude 19 (psfFlux above 91 µJy: m = 31.4 - 2.5 log10(flux/nJy)), at a high signal-to-noise
// ratio, reliable, and not a solar-system object: what a follow-up programme wants within the hour.
import type { LsstFields } from 'fink-distribution/filter';

export const survey = 'lsst';

export const description = 'Rubin bright new sources: first detection, brighter than magnitude 19, SNR above 10, reliable, not a solar-system object';

const MAG_19_NJY = 10 ** ((31.4 - 19) / 2.5);

export function filter(alert: LsstFields): boolean {
  return alert.nDiaSources === 0
    && (alert.psfFlux ?? 0) > MAG_19_NJY
    && (alert.snr ?? 0) > 10
    && (alert.reliability ?? 0) > 0.8
    && alert.diaObjectId !== null;
}
