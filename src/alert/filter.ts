// What a filter written outside this repository imports ('fink-distribution/filter'): the typed
// fields of each survey and the columns they are stored in.
export { COLUMNS, type AlertFields } from './fields.ts';
export { LSST_COLUMNS, type LsstFields } from './lsst-fields.ts';
export { SURVEYS, type Survey } from './survey.ts';
