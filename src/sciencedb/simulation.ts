// What the generators of synthetic alerts share: the profiles of each survey, a simulation's options
// and shape, the compact field specs their schemas are written in, and the reading of a night. A
// module of its own so that the generators (simulate-ztf.ts, simulate-lsst.ts) and the dispatcher
// that picks one by profile (simulate.ts) import it and never each other.
import type { RecordSchema } from '../avro/schema.ts';
import type { Survey } from '../alert/survey.ts';
import { UsageError } from '../errors.ts';
import type { NewAlert } from './store.ts';

export type ZtfProfile = 'ztf' | 'ztf-light';
export const ZTF_PROFILES: readonly ZtfProfile[] = ['ztf', 'ztf-light'];
export type LsstProfile = 'lsst' | 'lsst-light';
export const LSST_PROFILES: readonly LsstProfile[] = ['lsst', 'lsst-light'];
/** The profiles of every survey. */
export type AnyProfile = ZtfProfile | LsstProfile;
export const SURVEY_PROFILES: Readonly<Record<Survey, readonly AnyProfile[]>> = { ztf: ZTF_PROFILES, lsst: LSST_PROFILES };

export interface SimulationOptions {
  profile: AnyProfile;
  seed: number;
  /** YYYYMMDD */
  night: string;
}

export interface Simulation {
  /** The alert schema (ZTF 4.02, Rubin lsst.v10_0). */
  alertSchema: RecordSchema;
  /** The record of added values. */
  addedSchema: RecordSchema;
  /** The alert schema extended by the added values: what a Fink-enriched alert file carries. */
  fullSchema: RecordSchema;
  /** Alert number `i` (0-based), in order: call with i = 0, 1, 2, ... */
  next(): NewAlert;
}

/** A field of a survey's schema written compactly (ztf-schema.ts says how). */
export interface FieldSpec {
  name: string;
  /** d, f, i, l, s, b or t */
  code: string;
  /** '' not nullable, '?' nullable with a null default, '~' nullable without default */
  mark: string;
}

/** Milliseconds since the Unix epoch of 00:00 UTC on a YYYYMMDD date, or undefined for none. */
function nightStartMs(night: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(night);
  if (m === null) return undefined;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(year, month - 1, day);
  // Date.UTC rolls an impossible date over (20261345 becomes a day of February 2027): the date it
  // landed on must be the one written.
  const date = new Date(ms);
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day ? ms : undefined;
}

/** True for a night written YYYYMMDD that is a date of the calendar. */
export function isNight(night: string): boolean {
  return nightStartMs(night) !== undefined;
}

/** Days since the Unix epoch of 00:00 UTC on a night's date (YYYYMMDD). */
function daysOfNight(night: string): number {
  const ms = nightStartMs(night);
  if (ms === undefined) throw new UsageError(`a night is a date written YYYYMMDD, got '${night}'`);
  return ms / 86_400_000;
}

/** Julian date of the start (UTC midnight) of a night given as YYYYMMDD. */
export function jdOfNight(night: string): number {
  return daysOfNight(night) + 2440587.5;
}

/** MJD (UTC) of the start (UTC midnight) of a night given as YYYYMMDD. */
export function mjdOfNight(night: string): number {
  return daysOfNight(night) + 40587;
}
