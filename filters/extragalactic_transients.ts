// Rubin: extragalactic transient candidates. A reliable positive detection that SuperNNova calls a
// supernova rather than anything else, not a solar-system source, and no catalogue knowing the
// source as a star; a photometric-redshift host (Legacy Survey) or a galaxy-like SIMBAD label helps.
import type { LsstFields } from 'fink-distribution/filter';

export const survey = 'lsst';

export const description = 'Rubin extragalactic transient candidates: reliable positive detection, snnSnVsOthers_score above 0.5, not stellar, not a solar-system source';

const NOT_STELLAR = new Set(['Unknown', 'Galaxy', 'SN', 'Candidate_SN*', 'Transient', 'Fail']);

export function filter(alert: LsstFields): boolean {
  return (alert.psfFlux ?? 0) > 0
    && (alert.reliability ?? 0) > 0.6
    && (alert.snnSnVsOthers_score ?? 0) > 0.5
    && alert.ssObjectId === null && alert.is_sso !== true
    && NOT_STELLAR.has(alert.simbad_otype ?? 'Unknown');
}
