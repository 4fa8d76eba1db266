// The alerts read back from a topic, printed as a table: the analogue of the Spark DataFrame that
// Fink's own distribution test shows. A topic may carry alerts of both surveys, and their fields
// have nothing in common, so each survey has its own columns; which one a message is comes from its
// writer schema, the only thing a consumer knows for sure about it.
import { AlertError, extractFields, type AlertFields } from '../alert/fields.ts';
import type { RecordSchema } from '../avro/schema.ts';
import { printable } from '../printable.ts';

export type Survey = 'ztf' | 'lsst';

interface Column<T> {
  title: string;
  width: number;
  value: (f: T) => string;
}

const fixed = (v: number | null, digits: number) => (v === null ? 'null' : v.toFixed(digits));

const ZTF_COLUMNS: Column<AlertFields>[] = [
  // Text fields are the sender's: shown with control characters escaped, never raw.
  { title: 'objectId', width: 12, value: (f) => printable(f.objectId) },
  { title: 'candid', width: 19, value: (f) => String(f.candid) },
  { title: 'jd', width: 15, value: (f) => fixed(f.jd, 6) },
  { title: 'ra', width: 11, value: (f) => fixed(f.ra, 6) },
  { title: 'dec', width: 11, value: (f) => fixed(f.dec, 6) },
  { title: 'magpsf', width: 7, value: (f) => fixed(f.magpsf, 3) },
  { title: 'fid', width: 3, value: (f) => String(f.fid ?? 'null') },
  { title: 'cdsxmatch', width: 14, value: (f) => (f.cdsxmatch === null ? 'null' : printable(f.cdsxmatch)) },
  { title: 'rf_snia', width: 7, value: (f) => fixed(f.rf_snia_vs_nonia, 3) },
  { title: 'snn_snia', width: 8, value: (f) => fixed(f.snn_snia_vs_nonia, 3) },
  { title: 'roid', width: 4, value: (f) => String(f.roid ?? 'null') },
];

/** What the Rubin table shows of an alert: its identity and its triggering diaSource. */
interface RubinFields {
  diaSourceId: bigint;
  diaObjectId: bigint | null;
  midpointMjdTai: number | null;
  ra: number | null;
  dec: number | null;
  band: string | null;
  psfFlux: number | null;
  snr: number | null;
  reliability: number | null;
}

const RUBIN_COLUMNS: Column<RubinFields>[] = [
  { title: 'diaSourceId', width: 20, value: (f) => String(f.diaSourceId) },
  { title: 'diaObjectId', width: 20, value: (f) => String(f.diaObjectId ?? 'null') },
  { title: 'midpointMjdTai', width: 15, value: (f) => fixed(f.midpointMjdTai, 6) },
  { title: 'ra', width: 11, value: (f) => fixed(f.ra, 6) },
  { title: 'dec', width: 11, value: (f) => fixed(f.dec, 6) },
  { title: 'band', width: 4, value: (f) => (f.band === null ? 'null' : printable(f.band)) },
  { title: 'psfFlux', width: 11, value: (f) => (f.psfFlux === null ? 'null' : f.psfFlux.toPrecision(6)) },
  { title: 'snr', width: 8, value: (f) => fixed(f.snr, 2) },
  { title: 'reliability', width: 11, value: (f) => fixed(f.reliability, 3) },
];

type Rec = Record<string, unknown>;

const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);

function rubinFields(alert: Rec): RubinFields {
  const diaSourceId = alert.diaSourceId;
  if (typeof diaSourceId !== 'bigint') throw new AlertError('the Rubin alert has no diaSourceId');
  const source = (typeof alert.diaSource === 'object' && alert.diaSource !== null ? alert.diaSource : {}) as Rec;
  return {
    diaSourceId,
    diaObjectId: typeof source.diaObjectId === 'bigint' ? source.diaObjectId : null,
    midpointMjdTai: num(source.midpointMjdTai),
    ra: num(source.ra),
    dec: num(source.dec),
    band: typeof source.band === 'string' ? source.band : null,
    psfFlux: num(source.psfFlux),
    snr: num(source.snr),
    reliability: num(source.reliability),
  };
}

// Rubin's alert packets are records named `alert` in a namespace `lsst.v<major>_<minor>`; Fink's
// added values extend that record with trailing fields but keep its name. Schemas written by Spark
// (Fink's own LSST distribution) rename the record (`topLevelRecord.value`) but keep Rubin's
// shape, which no ZTF alert has: a top-level diaSourceId and its diaSource.
const RUBIN_ALERT = /^lsst\.v\d+_\d+\.alert$/;
const RUBIN_SHAPE = ['diaSourceId', 'diaSource'];

/** A record schema's full name (`lsst.v10_0.alert`): its name, qualified by its namespace if not already. */
export function schemaFullName(schema: RecordSchema): string {
  return schema.name.includes('.') || schema.namespace === undefined ? schema.name : `${schema.namespace}.${schema.name}`;
}

/** The survey of an alert, from its writer schema: the record's full name, or else its shape. */
export function surveyOf(schema: RecordSchema): Survey {
  if (RUBIN_ALERT.test(schemaFullName(schema))) return 'lsst';
  const names = new Set(schema.fields.map((f) => f.name));
  return RUBIN_SHAPE.every((n) => names.has(n)) ? 'lsst' : 'ztf';
}

/** How the summary names a survey. */
export const SURVEY_NAMES: Record<Survey, string> = { ztf: 'ZTF', lsst: 'Rubin' };

function line<T>(columns: readonly Column<T>[], fields: T): string {
  return columns.map((c) => c.value(fields).padStart(c.width)).join(' ');
}

/** The table row of an alert of a survey; throws AlertError when it lacks its identity. */
export function tableRow(survey: Survey, record: Rec): string {
  return survey === 'lsst' ? line(RUBIN_COLUMNS, rubinFields(record)) : line(ZTF_COLUMNS, extractFields(record));
}


/** The heading of a survey's rows: its name, the column titles, a rule. */
export function tableHeader(survey: Survey): string {
  const columns: readonly Column<never>[] = survey === 'lsst' ? RUBIN_COLUMNS : ZTF_COLUMNS;
  const header = columns.map((c) => c.title.padStart(c.width)).join(' ');
  return `${SURVEY_NAMES[survey]} alerts\n${header}\n${'-'.repeat(header.length)}`;
}
