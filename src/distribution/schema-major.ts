// The major version of a survey's alert schema: the registry's compatibility check holds within one
// (a break there is refused), not across two (a survey breaks compatibility on purpose when it
// changes major version: Rubin renames its record, lsst.v9_0.alert -> lsst.v10_0.alert).
import { surveyOfSchema, type Survey } from '../alert/survey.ts';

export interface MajorVersion {
  survey: Survey;
  major: number;
}

interface VersionedSchema {
  type?: unknown;
  name?: unknown;
  namespace?: unknown;
  /** ZTF's schemas carry their version ("3.3", "4.02") as an attribute of the alert record. */
  version?: unknown;
  fields?: readonly { name?: unknown }[];
}

const RUBIN = /^lsst\.v(\d+)_\d+\.alert$/;
const ZTF_VERSION = /^(\d+)(?:\.\d+)*$/;

/**
 * The survey and major version of an alert's writer schema: Rubin's from its record's name
 * (lsst.vX_Y.alert: X), ZTF's from its `version` attribute ("3.3": 3). Undefined when the schema
 * does not say (a schema Fink renamed, `topLevelRecord`): then no check is lifted for it.
 */
export function majorVersionOf(schema: VersionedSchema): MajorVersion | undefined {
  const name = typeof schema.name === 'string' ? schema.name : '';
  const full = name.includes('.') || typeof schema.namespace !== 'string' ? name : `${schema.namespace}.${name}`;
  const rubin = RUBIN.exec(full);
  if (rubin !== null) return { survey: 'lsst', major: Number(rubin[1]) };
  const ztf = typeof schema.version === 'string' ? ZTF_VERSION.exec(schema.version.trim()) : null;
  if (ztf !== null && surveyOfSchema(schema) === 'ztf') return { survey: 'ztf', major: Number(ztf[1]) };
  return undefined;
}

/** The major version of a schema given as JSON text (a registry's answer); undefined when it says none or is not JSON. */
export function majorVersionOfText(text: string): MajorVersion | undefined {
  let schema: unknown;
  try {
    schema = JSON.parse(text);
  } catch {
    return undefined;
  }
  return schema !== null && typeof schema === 'object' && !Array.isArray(schema) ? majorVersionOf(schema as VersionedSchema) : undefined;
}

/** How the log names a survey. */
export function surveyName(survey: Survey): string {
  return survey === 'lsst' ? 'Rubin' : 'ZTF';
}
