// The typed view of a Rubin (LSST) alert that filters and look-ups read: the triggering diaSource's
// measurements, the identity of its object, and the values Fink adds (classifier scores in `clf`,
// cross-match labels in `xm`, predicates in `pred`). Stored as columns beside the raw datum, as the
// ZTF fields are (src/alert/fields.ts).
import { AlertError } from './fields.ts';

export interface LsstFields {
  /** The alert's identity: the triggering diaSource (64-bit). */
  diaSourceId: bigint;
  /** The static-sky object; null for a solar-system source (Rubin writes 0 or nothing there). */
  diaObjectId: bigint | null;
  /** The solar-system object; null when the source is not associated with one. */
  ssObjectId: bigint | null;
  /** The MPC designation of the solar-system object, where the alert carries one. */
  designation: string | null;
  midpointMjdTai: number | null;
  ra: number | null;
  dec: number | null;
  /** u, g, r, i, z or y. */
  band: string | null;
  /** Difference-image PSF flux and its error, nJy. */
  psfFlux: number | null;
  psfFluxErr: number | null;
  snr: number | null;
  reliability: number | null;
  isDipole: boolean | null;
  /** Previous sources of the object: the length of prvDiaSources, or diaObject.nDiaSources less this one. */
  nDiaSources: number | null;
  // Values added by Fink (its names, flattened out of clf, xm and pred); null where absent.
  snnSnVsOthers_score: number | null;
  earlySNIa_score: number | null;
  cats_class: number | null;
  cats_score: number | null;
  simbad_otype: string | null;
  tns_type: string | null;
  legacydr8_zphot: number | null;
  is_sso: boolean | null;
  is_first: boolean | null;
  main_label_crossmatch: string | null;
}

export type LsstKind = 'real' | 'int' | 'text' | 'bool' | 'id';

/** Where a column comes from: a path in the alert (or in Fink's added records), tried in order. */
export interface LsstColumn {
  name: Exclude<keyof LsstFields, 'diaSourceId' | 'nDiaSources' | 'diaObjectId' | 'ssObjectId' | 'designation'>;
  kind: LsstKind;
  paths: readonly (readonly string[])[];
  /** Added by a broker: looked up in the added values first. */
  added?: boolean;
}

const source = (name: string): readonly (readonly string[])[] => [['diaSource', name]];

export const LSST_COLUMNS: readonly LsstColumn[] = [
  { name: 'midpointMjdTai', kind: 'real', paths: source('midpointMjdTai') },
  { name: 'ra', kind: 'real', paths: source('ra') },
  { name: 'dec', kind: 'real', paths: source('dec') },
  { name: 'band', kind: 'text', paths: source('band') },
  { name: 'psfFlux', kind: 'real', paths: source('psfFlux') },
  { name: 'psfFluxErr', kind: 'real', paths: source('psfFluxErr') },
  { name: 'snr', kind: 'real', paths: source('snr') },
  { name: 'reliability', kind: 'real', paths: source('reliability') },
  { name: 'isDipole', kind: 'bool', paths: source('isDipole') },
  { name: 'snnSnVsOthers_score', kind: 'real', paths: [['clf', 'snnSnVsOthers_score']], added: true },
  { name: 'earlySNIa_score', kind: 'real', paths: [['clf', 'earlySNIa_score']], added: true },
  { name: 'cats_class', kind: 'int', paths: [['clf', 'cats_class']], added: true },
  { name: 'cats_score', kind: 'real', paths: [['clf', 'cats_score']], added: true },
  { name: 'simbad_otype', kind: 'text', paths: [['xm', 'simbad_otype']], added: true },
  { name: 'tns_type', kind: 'text', paths: [['xm', 'tns_type']], added: true },
  { name: 'legacydr8_zphot', kind: 'real', paths: [['xm', 'legacydr8_zphot']], added: true },
  { name: 'is_sso', kind: 'bool', paths: [['pred', 'is_sso']], added: true },
  { name: 'is_first', kind: 'bool', paths: [['pred', 'is_first']], added: true },
  { name: 'main_label_crossmatch', kind: 'text', paths: [['pred', 'main_label_crossmatch']], added: true },
];

/** The identity columns, stored as such rather than read by path (see `extractLsstFields`). */
export const LSST_ID_COLUMNS = [
  { name: 'diaObjectId', kind: 'id' },
  { name: 'ssObjectId', kind: 'id' },
  { name: 'designation', kind: 'text' },
  { name: 'nDiaSources', kind: 'int' },
] as const satisfies readonly { name: keyof LsstFields; kind: LsstKind }[];

type Rec = Record<string, unknown>;

function at(record: Rec | null, path: readonly string[]): unknown {
  let value: unknown = record;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Rec)[key];
  }
  return value;
}

function lsstScalar(kind: LsstKind, value: unknown): number | string | boolean | bigint | null {
  if (value === null || value === undefined) return null;
  switch (kind) {
    case 'text': return typeof value === 'string' ? value : null;
    case 'bool': return typeof value === 'boolean' ? value : null;
    case 'id': return typeof value === 'bigint' ? value : typeof value === 'number' && Number.isInteger(value) ? BigInt(value) : null;
    case 'int': return typeof value === 'bigint' ? Number(value) : typeof value === 'number' ? Math.trunc(value) : null;
    default: return typeof value === 'bigint' ? Number(value) : typeof value === 'number' ? value : null;
  }
}

/** Rubin writes 0 where a source has no object of that kind: a missing object, not object 0. */
function objectId(...values: unknown[]): bigint | null {
  for (const v of values) {
    const id = lsstScalar('id', v);
    if (id !== null && id !== 0n) return id as bigint;
  }
  return null;
}

/**
 * Extracts the typed fields from a decoded Rubin alert and, optionally, from a decoded record of
 * values added later (those win over the alert's own). An alert without a diaSourceId is refused.
 */
export function extractLsstFields(alert: Rec, added: Rec | null = null): LsstFields {
  const diaSource = (alert.diaSource ?? null) as Rec | null;
  const diaSourceId = lsstScalar('id', alert.diaSourceId ?? diaSource?.diaSourceId);
  if (typeof diaSourceId !== 'bigint') throw new AlertError('the alert has no diaSourceId');
  const diaObject = (alert.diaObject ?? null) as Rec | null;
  const ssSource = (alert.ssSource ?? null) as Rec | null;
  const prv = alert.prvDiaSources;
  const objectSources = lsstScalar('int', diaObject?.nDiaSources) as number | null;
  const designation = [at(ssSource, ['designation']), at(alert, ['mpc_orbits', 'designation']), at(alert, ['MPCORB', 'mpcDesignation'])]
    .find((d): d is string => typeof d === 'string' && d !== '');
  const fields: Rec = {
    diaSourceId,
    diaObjectId: objectId(diaSource?.diaObjectId, diaObject?.diaObjectId),
    ssObjectId: objectId(diaSource?.ssObjectId, ssSource?.ssObjectId),
    designation: designation ?? null,
    nDiaSources: Array.isArray(prv) ? prv.length : objectSources === null ? null : Math.max(0, objectSources - 1),
  };
  for (const column of LSST_COLUMNS) {
    let value: unknown = undefined;
    for (const record of column.added === true ? [added, alert] : [alert]) {
      for (const path of column.paths) {
        value = at(record, path);
        if (value !== undefined && value !== null) break;
      }
      if (value !== undefined && value !== null) break;
    }
    fields[column.name] = lsstScalar(column.kind, value);
  }
  return fields as unknown as LsstFields;
}

/**
 * What a decoder reads of a value (src/avro/projection.ts's `Need`, written out here: this module is
 * part of the filters' package, whose declarations do not reach into avsc's).
 */
type Need = 'all' | 'count' | { readonly [field: string]: Need };

/** Adds `path` to a need tree, its last step read as `leaf`. */
function needPath(tree: Record<string, Need>, path: readonly string[], leaf: Need): void {
  let node = tree;
  for (const step of path.slice(0, -1)) {
    const next = node[step];
    if (next === 'all') return;
    node = (node[step] = typeof next === 'object' ? next : {}) as Record<string, Need>;
  }
  node[path.at(-1)!] = leaf;
}

/**
 * Every value of an alert that `extractLsstFields` reads: a decoder that reads only these (src/avro/
 * projection.ts) gives it the same fields as the whole alert does. Kept beside the function, and
 * tested against it on every sample alert (test/alert/lsst-fields.test.ts).
 */
export const LSST_FIELD_READS: Need = (() => {
  const tree: Record<string, Need> = {};
  for (const path of [['diaSourceId'], ['diaSource', 'diaSourceId'], ['diaSource', 'diaObjectId'], ['diaSource', 'ssObjectId'], ['diaObject', 'diaObjectId'], ['diaObject', 'nDiaSources'], ['ssSource', 'ssObjectId'], ['ssSource', 'designation'], ['mpc_orbits', 'designation'], ['MPCORB', 'mpcDesignation']]) needPath(tree, path, 'all');
  for (const column of LSST_COLUMNS) for (const path of column.paths) needPath(tree, path, 'all');
  // Only how many previous sources there are (see nDiaSources).
  needPath(tree, ['prvDiaSources'], 'count');
  return tree;
})();

/**
 * The partition key of a Rubin alert's object: its diaObjectId, or for a solar-system source its
 * ssObjectId or MPC designation, prefixed so that it cannot be taken for a diaObjectId.
 */
export function lsstObjectKey(fields: LsstFields): string {
  if (fields.diaObjectId !== null) return String(fields.diaObjectId);
  if (fields.ssObjectId !== null) return `ss:${fields.ssObjectId}`;
  if (fields.designation !== null) return `mpc:${fields.designation}`;
  throw new AlertError(`alert ${fields.diaSourceId} has neither a diaObjectId nor a solar-system object`);
}

const TAI_MINUS_UTC_MS = 37_000;
const MJD_EPOCH_MS = -40587 * 86_400_000;

/**
 * Rubin's dayObs (YYYYMMDD): the date at UTC-12 h of a TAI MJD, so that a whole Chilean night,
 * which spans UTC midnight, is one date.
 */
export function dayObsOfMjdTai(mjdTai: number): string {
  const utcMs = MJD_EPOCH_MS + mjdTai * 86_400_000 - TAI_MINUS_UTC_MS;
  return new Date(utcMs - 12 * 3_600_000).toISOString().slice(0, 10).replaceAll('-', '');
}
