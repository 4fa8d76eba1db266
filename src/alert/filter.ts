// What a filter written outside this repository imports ('fink-distribution/filter'): the typed
// fields of each survey, the columns they are stored in, and the values of Fink's added fields that
// several filters test.
export { COLUMNS, type AlertFields } from './fields.ts';
export { LSST_COLUMNS, type LsstFields } from './lsst-fields.ts';
export { SURVEYS, type Survey } from './survey.ts';

/**
 * SIMBAD classes (ZTF's `cdsxmatch`) that say nothing against a new transient: no match, or a match
 * that is itself a supernova or a transient, or a failed cross-match.
 */
export const UNCLASSIFIED: ReadonlySet<string> = new Set(['Unknown', 'Candidate_SN*', 'SN', 'Transient', 'Fail']);

/** Fink's `roid` of an alert matched to a known asteroid or comet (1 and 2 are new moving candidates). */
export const ROID_KNOWN_SSO = 3;
