// An alert's typed fields as the compiled conditions read them: one array per alert, built once and
// shared by every condition evaluated on that alert, each field at a fixed index of its survey.
// Reading `fields[name]` in each condition's closures was a keyed load that every field name passes
// through (a slow, megamorphic lookup, most of a condition's time); an array read by a constant
// index is not. The last slot holds the fields object itself, for the shipped filters that a
// condition names (they take the survey's typed fields).
import type { AlertFields } from '../alert/fields.ts';
import type { LsstFields } from '../alert/lsst-fields.ts';
import type { Survey } from '../alert/survey.ts';
import { surveyFields } from './catalogue.ts';

export type Row = readonly unknown[];

const NAMES: Record<Survey, readonly string[]> = { ztf: surveyFields('ztf').map((f) => f.name), lsst: surveyFields('lsst').map((f) => f.name) };

/** Where a field sits in its survey's rows. */
export function fieldIndex(survey: Survey, name: string): number {
  const index = NAMES[survey].indexOf(name);
  if (index < 0) throw new Error(`${name} is not a field of ${survey} alerts`);
  return index;
}

/** Where the fields object sits in a row of the survey. */
export function fieldsSlot(survey: Survey): number {
  return NAMES[survey].length;
}

/** A missing value and a float that is not a number are NULL. */
const n = (v: unknown): unknown => (v === undefined || v !== v ? null : v);

// Written out field by field, with property names the compiler sees, rather than looped over the
// names: a loop's `fields[name]` is the slow keyed load again, once per field per alert. The order
// is the catalogue's (test/userfilter/condition.test.ts checks every index).
const BUILD: Record<Survey, (f: never) => unknown[]> = {
  ztf: (f: AlertFields) => [
    n(f.objectId), n(f.candid), n(f.jd), n(f.ra), n(f.dec), n(f.magpsf), n(f.sigmapsf), n(f.fid), n(f.isdiffpos),
    n(f.ndethist), n(f.jdstarthist), n(f.drb), n(f.rb), n(f.classtar), n(f.sgscore1), n(f.distpsnr1), n(f.ssdistnr),
    n(f.ssmagnr), n(f.ssnamenr), n(f.cdsxmatch), n(f.roid), n(f.mulens), n(f.rf_snia_vs_nonia), n(f.snn_snia_vs_nonia),
    n(f.snn_sn_vs_all), n(f.nalerthist), f,
  ],
  lsst: (f: LsstFields) => [
    n(f.diaSourceId), n(f.diaObjectId), n(f.ssObjectId), n(f.designation), n(f.midpointMjdTai), n(f.ra), n(f.dec),
    n(f.band), n(f.psfFlux), n(f.psfFluxErr), n(f.snr), n(f.reliability), n(f.isDipole), n(f.nDiaSources),
    n(f.snnSnVsOthers_score), n(f.earlySNIa_score), n(f.cats_class), n(f.cats_score), n(f.simbad_otype), n(f.tns_type),
    n(f.legacydr8_zphot), n(f.is_sso), n(f.is_first), n(f.main_label_crossmatch), f,
  ],
};

/** The row of an alert's typed fields of `survey` (NULL for a missing value or a NaN), the fields object last. */
export function rowOf(survey: Survey, fields: object): Row {
  return BUILD[survey](fields as never);
}
