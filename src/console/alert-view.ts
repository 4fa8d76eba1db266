// What the console shows of one decoded alert, ZTF or Rubin, from the record as its writer schema
// decodes it (not from the science database's columns): the table row, the light curve from the
// alert's own history, the cutouts' bytes, and its fields made safe for JSON.
import type { RecordSchema } from '../avro/schema.ts';

export type Survey = 'ztf' | 'rubin';

export interface AlertRow {
  survey: Survey;
  /** ZTF objectId, Rubin diaObject.diaObjectId (as text: it is a 64-bit integer). */
  object: string;
  /** ZTF candid, Rubin diaSourceId (as text). */
  source: string;
  /** ZTF candidate.jd, Rubin diaSource.midpointMjdTai. */
  time: number | null;
  ra: number | null;
  dec: number | null;
  /** ZTF magpsf (mag), Rubin psfFlux (nJy). */
  brightness: number | null;
  /** ZTF fid as g, r, i; Rubin band. */
  band: string;
}

export interface CurvePoint {
  t: number;
  y: number;
  err: number | null;
}

export interface CurveBand {
  band: string;
  points: CurvePoint[];
  /** ZTF upper limits (diffmaglim where no detection); none for Rubin. */
  limits: { t: number; y: number }[];
}

export interface LightCurve {
  survey: Survey;
  timeLabel: string;
  valueLabel: string;
  /** Magnitudes grow fainter upwards. */
  inverted: boolean;
  bands: CurveBand[];
}

export type CutoutKind = 'science' | 'template' | 'difference';
export const CUTOUT_KINDS: readonly CutoutKind[] = ['science', 'template', 'difference'];

type Rec = Record<string, unknown>;

/** Rubin's writer schemas are records `lsst.vX_Y.alert`; everything else is read as ZTF. */
export function surveyOf(schema: RecordSchema): Survey {
  const full = schema.name.includes('.') ? schema.name : `${schema.namespace ?? ''}.${schema.name}`;
  return /^lsst\.v\d+_\d+\.alert$/.test(full) ? 'rubin' : 'ztf';
}

/** A number out of a decoded value: avsc hands out numbers, bigints (longs) or null. */
function num(value: unknown): number | null {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  return null;
}

function text(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'string' ? value : String(value);
}

function rec(value: unknown): Rec {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Uint8Array) ? (value as Rec) : {};
}

function list(value: unknown): Rec[] {
  return Array.isArray(value) ? value.map(rec) : [];
}

const ZTF_BANDS: Record<number, string> = { 1: 'g', 2: 'r', 3: 'i' };

function ztfBand(fid: unknown): string {
  const f = num(fid);
  return f === null ? '' : (ZTF_BANDS[f] ?? `fid ${f}`);
}

export function alertRow(survey: Survey, record: Rec): AlertRow {
  if (survey === 'rubin') {
    const source = rec(record.diaSource);
    return {
      survey,
      object: text(rec(record.diaObject).diaObjectId ?? source.diaObjectId),
      source: text(record.diaSourceId ?? source.diaSourceId),
      time: num(source.midpointMjdTai),
      ra: num(source.ra),
      dec: num(source.dec),
      brightness: num(source.psfFlux),
      band: text(source.band),
    };
  }
  const candidate = rec(record.candidate);
  return {
    survey,
    object: text(record.objectId),
    source: text(record.candid ?? candidate.candid),
    time: num(candidate.jd),
    ra: num(candidate.ra),
    dec: num(candidate.dec),
    brightness: num(candidate.magpsf),
    band: ztfBand(candidate.fid),
  };
}

function addTo(bands: Map<string, CurveBand>, band: string): CurveBand {
  let entry = bands.get(band);
  if (entry === undefined) bands.set(band, (entry = { band, points: [], limits: [] }));
  return entry;
}

export function lightCurve(survey: Survey, record: Rec): LightCurve {
  const bands = new Map<string, CurveBand>();
  if (survey === 'rubin') {
    for (const s of [...list(record.prvDiaSources), rec(record.diaSource)]) {
      const t = num(s.midpointMjdTai);
      const y = num(s.psfFlux);
      if (t === null || y === null || !Number.isFinite(y)) continue;
      addTo(bands, text(s.band)).points.push({ t, y, err: num(s.psfFluxErr) });
    }
  } else {
    for (const c of [...list(record.prv_candidates), rec(record.candidate)]) {
      const t = num(c.jd);
      if (t === null) continue;
      const band = addTo(bands, ztfBand(c.fid));
      const mag = num(c.magpsf);
      const limit = num(c.diffmaglim);
      if (mag !== null) band.points.push({ t, y: mag, err: num(c.sigmapsf) });
      else if (limit !== null) band.limits.push({ t, y: limit });
    }
  }
  for (const b of bands.values()) {
    b.points.sort((a, c) => a.t - c.t);
    b.limits.sort((a, c) => a.t - c.t);
  }
  return survey === 'rubin'
    ? { survey, timeLabel: 'MJD (TAI)', valueLabel: 'psfFlux (nJy)', inverted: false, bands: [...bands.values()] }
    : { survey, timeLabel: 'JD', valueLabel: 'magpsf', inverted: true, bands: [...bands.values()] };
}

/** The cutout's FITS bytes (gzipped for ZTF), or null where the alert has none. */
export function cutoutBytes(survey: Survey, record: Rec, kind: CutoutKind): Uint8Array | null {
  const name = `cutout${kind[0]!.toUpperCase()}${kind.slice(1)}`;
  const value = survey === 'rubin' ? record[name] : rec(record[name]).stampData;
  return value instanceof Uint8Array ? value : null;
}

/** The record as JSON-ready values: longs as text (they exceed 2^53), bytes as their size, non-finite floats as text. */
export function jsonFields(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (value instanceof Uint8Array) return `<${value.length} bytes>`;
  if (Array.isArray(value)) return value.map(jsonFields);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = jsonFields(v);
    return out;
  }
  return value ?? null;
}
