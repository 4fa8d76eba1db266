// The names a condition may use, per survey: the typed fields that filter modules read
// (src/alert/fields.ts, src/alert/lsst-fields.ts), each with its type, unit and meaning. The tables
// are keyed by the fields' own interfaces, so a field added to a survey's typed view and not
// described here is a type error, not a name that conditions silently lack.
import type { AlertFields } from '../alert/fields.ts';
import type { LsstFields } from '../alert/lsst-fields.ts';
import type { Survey } from '../alert/survey.ts';

/**
 * The types of the language. `id` is a 64-bit identifier (candid, diaObjectId): compared exactly,
 * as a whole number, never used in arithmetic (a double would round it).
 */
export type ValueType = 'number' | 'string' | 'boolean' | 'id';

export interface FieldDoc {
  type: ValueType;
  /** Empty when the value has none (a count, a score, a label). */
  unit: string;
  description: string;
}

export interface FieldInfo extends FieldDoc {
  name: string;
}

const num = (unit: string, description: string): FieldDoc => ({ type: 'number', unit, description });
const text = (description: string): FieldDoc => ({ type: 'string', unit: '', description });
const flag = (description: string): FieldDoc => ({ type: 'boolean', unit: '', description });
const id = (description: string): FieldDoc => ({ type: 'id', unit: '', description });

const ZTF: { readonly [K in keyof AlertFields]: FieldDoc } = {
  objectId: text("ZTF object name (e.g. 'ZTF18abcdefg')"),
  candid: id('the alert (candidate) id'),
  jd: num('days', 'Julian date of the observation'),
  ra: num('deg', 'right ascension (J2000)'),
  dec: num('deg', 'declination (J2000)'),
  magpsf: num('mag', 'PSF-fit magnitude in the difference image'),
  sigmapsf: num('mag', 'its 1-sigma uncertainty'),
  fid: num('', 'filter: 1 g, 2 r, 3 i'),
  isdiffpos: text("'t' (or '1'): the candidate is from a positive subtraction (science minus reference)"),
  ndethist: num('', 'detections of this position at 3 sigma or more, this one included'),
  jdstarthist: num('days', 'Julian date of the first detection of this position'),
  drb: num('', 'deep-learning real/bogus score, 0 to 1'),
  rb: num('', 'random-forest real/bogus score, 0 to 1'),
  classtar: num('', 'SExtractor star/galaxy score, 0 (galaxy) to 1 (star)'),
  sgscore1: num('', 'star/galaxy score of the nearest PS1 source, 0 to 1'),
  distpsnr1: num('arcsec', 'distance to the nearest PS1 source'),
  ssdistnr: num('arcsec', 'distance to the nearest known solar-system object (-999: none)'),
  ssmagnr: num('mag', 'magnitude of that object (-999: none)'),
  ssnamenr: text('name of that object'),
  cdsxmatch: text("Fink: SIMBAD class of the nearest match ('Unknown': none)"),
  roid: num('', 'Fink: 3 a known solar-system object, 1 or 2 a new moving candidate, 0 none'),
  mulens: num('', 'Fink: microlensing probability, 0 to 1'),
  rf_snia_vs_nonia: num('', 'Fink: random-forest SN Ia probability (early light curve), 0 to 1'),
  snn_snia_vs_nonia: num('', 'Fink: SuperNNova SN Ia vs other probability, 0 to 1'),
  snn_sn_vs_all: num('', 'Fink: SuperNNova supernova vs anything probability, 0 to 1'),
  nalerthist: num('', 'Fink: alerts of the object so far'),
};

const LSST: { readonly [K in keyof LsstFields]: FieldDoc } = {
  diaSourceId: id('the alert: its triggering diaSource'),
  diaObjectId: id('the static-sky object (NULL for a solar-system source)'),
  ssObjectId: id('the solar-system object (NULL when none)'),
  designation: text('MPC designation of the solar-system object'),
  midpointMjdTai: num('days', 'MJD (TAI) of the exposure midpoint'),
  ra: num('deg', 'right ascension (ICRS)'),
  dec: num('deg', 'declination (ICRS)'),
  band: text("'u', 'g', 'r', 'i', 'z' or 'y'"),
  psfFlux: num('nJy', 'difference-image PSF flux (magnitude 31.4 - 2.5 log10(psfFlux))'),
  psfFluxErr: num('nJy', 'its uncertainty'),
  snr: num('', 'signal-to-noise ratio of the detection'),
  reliability: num('', 'real/bogus reliability score, 0 to 1'),
  isDipole: flag('the source looks like a dipole (a subtraction artefact)'),
  nDiaSources: num('', 'previous sources of the object (0: a first detection)'),
  snnSnVsOthers_score: num('', 'Fink: SuperNNova supernova vs others score, 0 to 1'),
  earlySNIa_score: num('', 'Fink: early SN Ia score, 0 to 1'),
  cats_class: num('', 'Fink: CATS broad class'),
  cats_score: num('', 'Fink: CATS score of that class, 0 to 1'),
  simbad_otype: text('Fink: SIMBAD class of the nearest match'),
  tns_type: text('Fink: TNS type of the nearest match'),
  legacydr8_zphot: num('', 'Fink: photometric redshift of the Legacy Survey DR8 host'),
  is_sso: flag('Fink: a solar-system object'),
  is_first: flag('Fink: the first detection of its object'),
  main_label_crossmatch: text('Fink: the main label of the cross-matches'),
};

const TABLES: Record<Survey, Readonly<Record<string, FieldDoc>>> = { ztf: ZTF, lsst: LSST };

/** Every field of a survey, in the order of its typed view. */
export function surveyFields(survey: Survey): FieldInfo[] {
  return Object.entries(TABLES[survey]).map(([name, doc]) => ({ name, ...doc }));
}
