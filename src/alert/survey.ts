// Which survey an alert comes from, told by its writer schema, and the survey-independent view of an
// alert: its identity (a 64-bit id unique within the survey), the partition key of its object, its
// night and the survey's typed fields.
import { AlertError, extractFields, nightOfJd, type AlertFields } from './fields.ts';
import { dayObsOfMjdTai, extractLsstFields, lsstObjectKey, type LsstFields } from './lsst-fields.ts';

export type Survey = 'ztf' | 'lsst';
export const SURVEYS: readonly Survey[] = ['ztf', 'lsst'];

/** The typed fields of an alert, by survey. */
export type SurveyFields = { survey: 'ztf'; fields: AlertFields } | { survey: 'lsst'; fields: LsstFields };

export type AlertView = SurveyFields & {
  /** ZTF candid, Rubin diaSourceId: unique within the survey. */
  alertId: bigint;
  /** ZTF objectId; Rubin diaObjectId, or `ss:<ssObjectId>` / `mpc:<designation>` for a solar-system source. */
  objectKey: string;
  /** YYYYMMDD: ZTF's UTC date, Rubin's dayObs. */
  night: string;
};

const LSST_NAME = /^lsst\.v\d+_\d+\.alert$/;

interface NamedSchema {
  name?: unknown;
  namespace?: unknown;
  fields?: readonly { name?: unknown }[];
}

/**
 * The survey of a writer schema: Rubin's record is `lsst.vX_Y.alert` (or, as Fink redistributes it
 * under another name, a record with `diaSourceId` and `diaSource`); ZTF's carries `objectId` and
 * `candidate`. Anything else is undefined: the caller names the file rather than guess.
 */
export function surveyOfSchema(schema: NamedSchema): Survey | undefined {
  const name = typeof schema.name === 'string' ? schema.name : '';
  const full = name.includes('.') || typeof schema.namespace !== 'string' ? name : `${schema.namespace}.${name}`;
  if (LSST_NAME.test(full)) return 'lsst';
  const fields = new Set((schema.fields ?? []).map((f) => f?.name));
  if (fields.has('diaSourceId') && fields.has('diaSource')) return 'lsst';
  if (fields.has('objectId') || fields.has('candidate') || fields.has('candid')) return 'ztf';
  return undefined;
}

// The times an alert can have: from before either survey's first light to far past its end. A time
// outside (NaN, infinite, 1e12...) is the writer's error, not a night: the date computation would
// throw a RangeError or file the alert under a night that never was.
const EARLIEST = { iso: '2015-01-01', jd: 2457023.5 };
const LATEST = { iso: '2100-01-01', jd: 2488069.5 };
const MJD_OF_JD = 2400000.5;

/** Whether the Julian date `jd` is outside the window above (NaN is). */
function outsideWindow(jd: number): boolean {
  return !(jd >= EARLIEST.jd && jd < LATEST.jd);
}

/** The error for an alert whose time is outside the window, naming the alert and the value (built only then: viewAlert runs per alert). */
function implausible(alert: string, what: string, value: number): AlertError {
  return new AlertError(`alert ${alert}: ${what} ${value} is not a time an alert can have (${EARLIEST.iso} to ${LATEST.iso})`);
}

/** The view of a decoded alert of `survey`, with values added later if any; AlertError if it has no identity or no plausible night. */
export function viewAlert(survey: Survey, alert: Record<string, unknown>, added: Record<string, unknown> | null = null): AlertView {
  if (survey === 'lsst') {
    const fields = extractLsstFields(alert, added);
    const mjd = fields.midpointMjdTai;
    if (mjd === null) throw new AlertError(`alert ${fields.diaSourceId} has no diaSource.midpointMjdTai, so no night`);
    if (outsideWindow(mjd + MJD_OF_JD)) throw implausible(`diaSourceId ${fields.diaSourceId}`, 'diaSource.midpointMjdTai', mjd);
    return { survey, fields, alertId: fields.diaSourceId, objectKey: lsstObjectKey(fields), night: dayObsOfMjdTai(mjd) };
  }
  const fields = extractFields(alert, added);
  if (fields.jd === null) throw new AlertError(`alert ${fields.candid} has no candidate.jd, so no night`);
  if (outsideWindow(fields.jd)) throw implausible(`candid ${fields.candid}`, 'candidate.jd', fields.jd);
  return { survey, fields, alertId: fields.candid, objectKey: fields.objectId, night: nightOfJd(fields.jd) };
}

/** The ZTF fields of an alert known to be ZTF's; throws otherwise. */
export function ztfFields(alert: SurveyFields): AlertFields {
  if (alert.survey !== 'ztf') throw new AlertError(`expected a ZTF alert, got a ${alert.survey} one`);
  return alert.fields;
}

/** The Rubin fields of an alert known to be Rubin's; throws otherwise. */
export function lsstFields(alert: SurveyFields): LsstFields {
  if (alert.survey !== 'lsst') throw new AlertError(`expected a Rubin alert, got a ${alert.survey} one`);
  return alert.fields;
}
