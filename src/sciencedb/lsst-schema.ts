// The shape of a Rubin (LSST) alert, schema lsst.v10_0 (field names and types as Rubin publishes
// them, in their order), and the values Fink adds to it, for the simulator. Written compactly in the
// notation of ztf-schema.ts; Rubin's nullable fields are all ["null", t] with a null default ('?').
import type { FieldSchema, RecordSchema } from '../avro/schema.ts';
import { finkFields, parseSpec, surveyFields } from './ztf-schema.ts';

export const LSST_BANDS = ['u', 'g', 'r', 'i', 'z', 'y'] as const;

/** A group of per-band fields, `{b}` standing for each band in turn. */
function perBand(group: string): string {
  return LSST_BANDS.map((b) => group.replaceAll('{b}', b)).join(' ');
}

const PIXEL_FLAGS = ['', '_bad', '_cr', '_crCenter', '_edge', '_nodata', '_nodataCenter', '_interpolated', '_interpolatedCenter',
  '_offimage', '_saturated', '_saturatedCenter', '_suspect', '_suspectCenter', '_streak', '_streakCenter', '_injected',
  '_injectedCenter', '_injected_template', '_injected_templateCenter'].map((s) => `pixelFlags${s}:b?`).join(' ');

const DIA_SOURCE = `diaSourceId:l visit:l detector:i diaObjectId:l? ssObjectId:l? parentDiaSourceId:l? midpointMjdTai:d
ra:d raErr:f? dec:d decErr:f? ra_dec_Cov:f? x:f xErr:f? y:f yErr:f? centroid_flag:b? apFlux:f? apFluxErr:f? apFlux_flag:b?
apFlux_flag_apertureTruncated:b? isNegative:b? snr:f? psfFlux:f? psfFluxErr:f? psfLnL:f? psfChi2:f? psfNdata:i?
psfFlux_flag:b? psfFlux_flag_edge:b? psfFlux_flag_noGoodPixels:b? trailFlux:f? trailFluxErr:f? trailRa:d? trailRaErr:f?
trailDec:d? trailDecErr:f? trailLength:f? trailLengthErr:f? trailAngle:f? trailAngleErr:f? trailChi2:f? trailNdata:i?
trail_flag_edge:b? dipoleMeanFlux:f? dipoleMeanFluxErr:f? dipoleFluxDiff:f? dipoleFluxDiffErr:f? dipoleLength:f?
dipoleAngle:f? dipoleChi2:f? dipoleNdata:i? scienceFlux:f? scienceFluxErr:f? forced_PsfFlux_flag:b?
forced_PsfFlux_flag_edge:b? forced_PsfFlux_flag_noGoodPixels:b? templateFlux:f? templateFluxErr:f? ixx:f? iyy:f? ixy:f?
ixxPSF:f? iyyPSF:f? ixyPSF:f? shape_flag:b? shape_flag_no_pixels:b? shape_flag_not_contained:b?
shape_flag_parent_source:b? extendedness:f? reliability:f? band:s? isDipole:b? dipoleFitAttempted:b?
timeProcessedMjdTai:d timeWithdrawnMjdTai:d? bboxSize:i? ${PIXEL_FLAGS} glint_trail:b?`;

const DIA_FORCED_SOURCE = `diaForcedSourceId:l diaObjectId:l ra:d dec:d visit:l detector:i psfFlux:f? psfFluxErr:f?
midpointMjdTai:d scienceFlux:f? scienceFluxErr:f? band:s? timeProcessedMjdTai:d timeWithdrawnMjdTai:d?`;

const DIA_OBJECT = `diaObjectId:l validityStartMjdTai:d ra:d raErr:f? dec:d decErr:f? ra_dec_Cov:f?
${perBand('{b}_psfFluxMean:f? {b}_psfFluxMeanErr:f? {b}_psfFluxSigma:f? {b}_psfFluxNdata:i? {b}_fpFluxMean:f? {b}_fpFluxMeanErr:f?')}
${perBand('{b}_scienceFluxMean:f? {b}_scienceFluxMeanErr:f?')}
${perBand('{b}_psfFluxMin:f? {b}_psfFluxMax:f? {b}_psfFluxMaxSlope:f? {b}_psfFluxErrMean:f?')}
firstDiaSourceMjdTai:d? lastDiaSourceMjdTai:d? nDiaSources:i`;

const SS_SOURCE = `diaSourceId:l ssObjectId:l designation:s? eclLambda:d eclBeta:d galLon:d galLat:d elongation:f? phaseAngle:f?
topoRange:f? topoRangeRate:f? helioRange:f? helioRangeRate:f? ephRa:d? ephDec:d? ephVmag:f? ephRate:f? ephRateRa:f?
ephRateDec:f? ephOffset:f? ephOffsetRa:d? ephOffsetDec:d? ephOffsetAlongTrack:f? ephOffsetCrossTrack:f?
helio_x:f? helio_y:f? helio_z:f? helio_vx:f? helio_vy:f? helio_vz:f? helio_vtot:f?
topo_x:f? topo_y:f? topo_z:f? topo_vx:f? topo_vy:f? topo_vz:f? topo_vtot:f? diaDistanceRank:i?`;

const ORBIT_ELEMENTS = 'a q e i node argperi peri_time yarkovsky srp a1 a2 a3 dt mean_anomaly period mean_motion'.split(' ');

const MPC_ORBITS = `id:i designation:s packed_primary_provisional_designation:s unpacked_primary_provisional_designation:s
mpc_orb_jsonb:s? created_at:t? updated_at:t? orbit_type_int:i? u_param:i? nopp:i? arc_length_total:d? arc_length_sel:d?
nobs_total:i? nobs_total_sel:i? ${ORBIT_ELEMENTS.map((e) => `${e}:d?`).join(' ')} ${ORBIT_ELEMENTS.map((e) => `${e}_unc:d?`).join(' ')}
epoch_mjd:d? h:d? g:d? not_normalized_rms:d? normalized_rms:d? earth_moid:d? fitting_datetime:t?`;

export const DIA_SOURCE_SPEC = parseSpec(DIA_SOURCE);
export const DIA_FORCED_SOURCE_SPEC = parseSpec(DIA_FORCED_SOURCE);
export const DIA_OBJECT_SPEC = parseSpec(DIA_OBJECT);
export const SS_SOURCE_SPEC = parseSpec(SS_SOURCE);
export const MPC_ORBITS_SPEC = parseSpec(MPC_ORBITS);

// Fink's added values on its Rubin stream, by record (a few of each, under Fink's names).
export const FINK_LSST_ADDED = {
  clf: parseSpec('snnSnVsOthers_score:f cats_class:i cats_score:f earlySNIa_score:d elephant_kstest_science:f elephant_kstest_template:f'),
  xm: parseSpec(`simbad_otype:s gaiadr3_DR3Name:s gaiadr3_Plx:f gaiadr3_e_Plx:f gaiadr3_VarFlag:i legacydr8_zphot:f
    legacydr8_e_zphot:f legacydr8_pstar:f legacydr8_fqual:i tns_fullname:s tns_type:s tns_redshift:f gcvs_type:s vsx_Type:s`),
  pred: parseSpec('is_sso:b is_first:b is_cataloged:b main_label_classifier:i main_label_crossmatch:s'),
  misc: parseSpec('firstDiaSourceMjdTaiFink:d'),
} as const;

const NS = 'lsst.v10_0';

function record(name: string, fields: FieldSchema[]): RecordSchema {
  return { type: 'record', name, namespace: NS, fields };
}

/** The Rubin lsst.v10_0 alert schema. */
export function lsstAlertSchema(): RecordSchema {
  const nullable = (type: unknown): FieldSchema['type'] => ['null', type] as FieldSchema['type'];
  return {
    type: 'record',
    name: 'alert',
    namespace: NS,
    fields: [
      { name: 'diaSourceId', type: 'long' },
      { name: 'observation_reason', type: nullable('string'), default: null },
      { name: 'target_name', type: nullable('string'), default: null },
      { name: 'diaSource', type: record('diaSource', surveyFields(DIA_SOURCE_SPEC)) },
      { name: 'prvDiaSources', type: nullable({ type: 'array', items: `${NS}.diaSource` }), default: null },
      { name: 'prvDiaForcedSources', type: nullable({ type: 'array', items: record('diaForcedSource', surveyFields(DIA_FORCED_SOURCE_SPEC)) }), default: null },
      { name: 'diaObject', type: nullable(record('diaObject', surveyFields(DIA_OBJECT_SPEC))), default: null },
      { name: 'ssSource', type: nullable(record('ssSource', surveyFields(SS_SOURCE_SPEC))), default: null },
      { name: 'mpc_orbits', type: nullable(record('mpc_orbits', surveyFields(MPC_ORBITS_SPEC))), default: null },
      ...['cutoutDifference', 'cutoutScience', 'cutoutTemplate'].map((name) => ({ name, type: nullable('bytes'), default: null })),
    ],
  };
}

/** The record of values Fink adds to a Rubin alert: its fields (clf, xm, pred, misc) become trailing top-level fields. */
export function finkLsstAddedSchema(): RecordSchema {
  return {
    type: 'record',
    name: 'fink_lsst_added_values',
    namespace: 'fink',
    fields: Object.entries(FINK_LSST_ADDED).map(([name, specs]) => ({ name, type: { type: 'record', name, namespace: 'fink.lsst', fields: finkFields(specs) } })),
  };
}
