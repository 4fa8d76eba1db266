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

/** The view of a decoded alert of `survey`, with values added later if any; AlertError if it has no identity or night. */
export function viewAlert(survey: Survey, alert: Record<string, unknown>, added: Record<string, unknown> | null = null): AlertView {
  if (survey === 'lsst') {
    const fields = extractLsstFields(alert, added);
    if (fields.midpointMjdTai === null) throw new AlertError(`alert ${fields.diaSourceId} has no diaSource.midpointMjdTai, so no night`);
    return { survey, fields, alertId: fields.diaSourceId, objectKey: lsstObjectKey(fields), night: dayObsOfMjdTai(fields.midpointMjdTai) };
  }
  const fields = extractFields(alert, added);
  if (fields.jd === null) throw new AlertError(`alert ${fields.candid} has no candidate.jd, so no night`);
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
