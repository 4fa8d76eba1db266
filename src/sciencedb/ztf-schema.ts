// The shape of a ZTF alert, schema version 4.02 (field names and types as ZTF publishes them), and
// the values a broker such as Fink adds after it. Written compactly: `name:t` where t is d(ouble),
// f(loat), i(nt), l(ong), s(tring), b(oolean), t (a long of timestamp-micros); a trailing `?` makes it ["null", t] with a null default, `~`
// makes it ["null", t] without default (as ZTF writes the few fields that are nullable in the
// history only).
import type { FieldSchema, RecordSchema } from '../avro/schema.ts';
import type { FieldSpec } from './simulation.ts';

const CANDIDATE = `jd:d fid:i pid:l diffmaglim:f? pdiffimfilename:s? programpi:s? programid:i candid:l isdiffpos:s
tblid:l? nid:i? rcid:i? field:i? xpos:f? ypos:f? ra:d dec:d magpsf:f sigmapsf:f chipsf:f? magap:f? sigmagap:f?
distnr:f? magnr:f? sigmagnr:f? chinr:f? sharpnr:f? sky:f? magdiff:f? fwhm:f? classtar:f? mindtoedge:f?
magfromlim:f? seeratio:f? aimage:f? bimage:f? aimagerat:f? bimagerat:f? elong:f? nneg:i? nbad:i? rb:f?
ssdistnr:f? ssmagnr:f? ssnamenr:s? sumrat:f? magapbig:f? sigmagapbig:f? ranr:d decnr:d sgmag1:f? srmag1:f?
simag1:f? szmag1:f? sgscore1:f? distpsnr1:f? ndethist:i ncovhist:i jdstarthist:d? jdendhist:d? scorr:d?
tooflag:i? objectidps1:l? objectidps2:l? sgmag2:f? srmag2:f? simag2:f? szmag2:f? sgscore2:f? distpsnr2:f?
objectidps3:l? sgmag3:f? srmag3:f? simag3:f? szmag3:f? sgscore3:f? distpsnr3:f? nmtchps:i rfid:l jdstartref:d
jdendref:d nframesref:i rbversion:s dsnrms:f? ssnrms:f? dsdiff:f? magzpsci:f? magzpsciunc:f? magzpscirms:f?
nmatches:i clrcoeff:f? clrcounc:f? zpclrcov:f? zpmed:f? clrmed:f? clrrms:f? neargaia:f? neargaiabright:f?
maggaia:f? maggaiabright:f? exptime:f? drb:f? drbversion:s`;

const PRV_CANDIDATE = `jd:d fid:i pid:l diffmaglim:f? pdiffimfilename:s? programpi:s? programid:i candid:l~ isdiffpos:s~
tblid:l? nid:i? rcid:i? field:i? xpos:f? ypos:f? ra:d~ dec:d~ magpsf:f~ sigmapsf:f~ chipsf:f? magap:f? sigmagap:f?
distnr:f? magnr:f? sigmagnr:f? chinr:f? sharpnr:f? sky:f? magdiff:f? fwhm:f? classtar:f? mindtoedge:f?
magfromlim:f? seeratio:f? aimage:f? bimage:f? aimagerat:f? bimagerat:f? elong:f? nneg:i? nbad:i? rb:f?
ssdistnr:f? ssmagnr:f? ssnamenr:s? sumrat:f? magapbig:f? sigmagapbig:f? ranr:d~ decnr:d~ scorr:d? magzpsci:f?
magzpsciunc:f? magzpscirms:f? clrcoeff:f? clrcounc:f? rbversion:s`;

const FP_HIST = `field:i? rcid:i? fid:i pid:l rfid:l sciinpseeing:f? scibckgnd:f? scisigpix:f? magzpsci:f? magzpsciunc:f?
magzpscirms:f? clrcoeff:f? clrcounc:f? exptime:f? adpctdif1:f? adpctdif2:f? diffmaglim:f? programid:i jd:d
forcediffimflux:f? forcediffimfluxunc:f? procstatus:s? distnr:f? ranr:d decnr:d magnr:f? sigmagnr:f? chinr:f?
sharpnr:f?`;

// Fink's added values, nullable the way Fink writes them ([type, "null"]).
const ADDED = `cdsxmatch:s roid:i mulens:d rf_snia_vs_nonia:d snn_snia_vs_nonia:d snn_sn_vs_all:d rf_kn_vs_nonkn:d
nalerthist:i`;

const TYPES: Record<string, FieldSchema['type']> = {
  d: 'double', f: 'float', i: 'int', l: 'long', s: 'string', b: 'boolean', t: { type: 'long', logicalType: 'timestamp-micros' },
};

export function parseSpec(spec: string): FieldSpec[] {
  return spec.split(/\s+/).filter(Boolean).map((item) => {
    const m = /^(\w+):([dfilsbt])([?~]?)$/.exec(item);
    if (m === null) throw new Error(`bad field spec '${item}'`);
    return { name: m[1]!, code: m[2]!, mark: m[3]! };
  });
}

export function surveyFields(specs: readonly FieldSpec[]): FieldSchema[] {
  return specs.map(({ name, code, mark }) => {
    const type = TYPES[code]!;
    if (mark === '?') return { name, type: ['null', type], default: null };
    if (mark === '~') return { name, type: ['null', type] };
    return { name, type };
  });
}

export const CANDIDATE_SPEC = parseSpec(CANDIDATE);
export const PRV_CANDIDATE_SPEC = parseSpec(PRV_CANDIDATE);
const FP_HIST_SPEC = parseSpec(FP_HIST);
export const ADDED_SPEC = parseSpec(ADDED);

/** The ZTF 4.02 alert schema. */
export function ztfAlertSchema(): RecordSchema {
  const ns = 'ztf.alert';
  return {
    type: 'record',
    name: 'alert',
    namespace: 'ztf',
    doc: 'avro alert schema for ZTF (www.ztf.caltech.edu)',
    version: '4.02',
    fields: [
      { name: 'schemavsn', type: 'string', doc: 'schema version used' },
      { name: 'publisher', type: 'string', doc: 'origin of alert packet' },
      { name: 'objectId', type: 'string', doc: 'object identifier or name' },
      { name: 'candid', type: 'long' },
      { name: 'candidate', type: { type: 'record', name: 'candidate', namespace: ns, fields: surveyFields(CANDIDATE_SPEC) } },
      { name: 'prv_candidates', type: ['null', { type: 'array', items: { type: 'record', name: 'prv_candidate', namespace: ns, fields: surveyFields(PRV_CANDIDATE_SPEC) } }], default: null },
      { name: 'fp_hists', type: ['null', { type: 'array', items: { type: 'record', name: 'fp_hist', namespace: ns, fields: surveyFields(FP_HIST_SPEC) } }], default: null },
      { name: 'cutoutScience', type: ['null', { type: 'record', name: 'cutout', namespace: ns, fields: [{ name: 'fileName', type: 'string' }, { name: 'stampData', type: 'bytes' }] }], default: null },
      { name: 'cutoutTemplate', type: ['null', 'ztf.alert.cutout'], default: null },
      { name: 'cutoutDifference', type: ['null', 'ztf.alert.cutout'], default: null },
    ],
  };
}

/** Fields as Fink writes its added values: nullable, [type, "null"]. */
export function finkFields(specs: readonly FieldSpec[]): FieldSchema[] {
  return specs.map((f) => ({ name: f.name, type: [TYPES[f.code]!, 'null'] }));
}

/** The record of values Fink adds to an alert; its fields become trailing top-level fields. */
export function finkAddedSchema(): RecordSchema {
  return {
    type: 'record',
    name: 'fink_added_values',
    namespace: 'fink',
    fields: finkFields(ADDED_SPEC),
  };
}
