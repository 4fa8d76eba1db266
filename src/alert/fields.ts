// The typed view of an alert that filters and look-ups read: the survey's fields that science cases
// use and the values a broker adds. Stored as columns beside the raw datum, so that a filter never
// has to decode an alert.
import { FinkError } from '../errors.ts';

export interface AlertFields {
  objectId: string;
  candid: bigint;
  jd: number | null;
  ra: number | null;
  dec: number | null;
  magpsf: number | null;
  sigmapsf: number | null;
  fid: number | null;
  isdiffpos: string | null;
  ndethist: number | null;
  jdstarthist: number | null;
  drb: number | null;
  rb: number | null;
  classtar: number | null;
  sgscore1: number | null;
  distpsnr1: number | null;
  ssdistnr: number | null;
  ssmagnr: number | null;
  ssnamenr: string | null;
  // Values added by a broker (Fink's names); null where the alert has none.
  cdsxmatch: string | null;
  roid: number | null;
  mulens: number | null;
  rf_snia_vs_nonia: number | null;
  snn_snia_vs_nonia: number | null;
  snn_sn_vs_all: number | null;
  nalerthist: number | null;
}

type Kind = 'real' | 'int' | 'text';

/** Where each column comes from: the candidate record or the top level, and older names it had. */
interface Column {
  name: Exclude<keyof AlertFields, 'objectId' | 'candid'>;
  kind: Kind;
  from: 'candidate' | 'top';
  aliases?: readonly string[];
}

export const COLUMNS: readonly Column[] = [
  { name: 'jd', kind: 'real', from: 'candidate' },
  { name: 'ra', kind: 'real', from: 'candidate' },
  { name: 'dec', kind: 'real', from: 'candidate' },
  { name: 'magpsf', kind: 'real', from: 'candidate' },
  { name: 'sigmapsf', kind: 'real', from: 'candidate' },
  { name: 'fid', kind: 'int', from: 'candidate' },
  { name: 'isdiffpos', kind: 'text', from: 'candidate' },
  { name: 'ndethist', kind: 'int', from: 'candidate' },
  { name: 'jdstarthist', kind: 'real', from: 'candidate' },
  { name: 'drb', kind: 'real', from: 'candidate' },
  { name: 'rb', kind: 'real', from: 'candidate' },
  { name: 'classtar', kind: 'real', from: 'candidate' },
  { name: 'sgscore1', kind: 'real', from: 'candidate' },
  { name: 'distpsnr1', kind: 'real', from: 'candidate' },
  { name: 'ssdistnr', kind: 'real', from: 'candidate' },
  { name: 'ssmagnr', kind: 'real', from: 'candidate' },
  { name: 'ssnamenr', kind: 'text', from: 'candidate' },
  { name: 'cdsxmatch', kind: 'text', from: 'top' },
  { name: 'roid', kind: 'int', from: 'top' },
  { name: 'mulens', kind: 'real', from: 'top' },
  // Fink called these `rfscore` and `snn` before it had several classifiers of each kind.
  { name: 'rf_snia_vs_nonia', kind: 'real', from: 'top', aliases: ['rfscore'] },
  { name: 'snn_snia_vs_nonia', kind: 'real', from: 'top', aliases: ['snn'] },
  { name: 'snn_sn_vs_all', kind: 'real', from: 'top' },
  { name: 'nalerthist', kind: 'int', from: 'top' },
];

/** An alert without the identity the science database needs (candid, objectId). */
export class AlertError extends FinkError {
  constructor(message: string) {
    super(message, { code: 'FINK_ALERT' });
    this.name = 'AlertError';
  }
}

type Rec = Record<string, unknown>;

function scalar(kind: Kind, value: unknown): number | string | null {
  if (value === null || value === undefined) return null;
  if (kind === 'text') return typeof value === 'string' ? value : null;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'number') return kind === 'int' ? Math.trunc(value) : value;
  return null;
}

/**
 * Extracts the typed fields from a decoded alert and, optionally, from a decoded record of values
 * added to it later (those win over the alert's own). An alert without `candid` or `objectId` is
 * refused: they are its identity.
 */
export function extractFields(alert: Rec, added: Rec | null = null): AlertFields {
  const candidate = (alert.candidate ?? null) as Rec | null;
  const candid = alert.candid ?? candidate?.candid;
  if (typeof candid !== 'bigint') throw new AlertError('the alert has no candid');
  const objectId = alert.objectId;
  if (typeof objectId !== 'string' || objectId === '') throw new AlertError(`alert ${candid} has no objectId`);
  const fields: Record<string, unknown> = { objectId, candid };
  for (const column of COLUMNS) {
    const names = [column.name, ...(column.aliases ?? [])];
    let value: unknown = null;
    for (const source of column.from === 'candidate' ? [candidate] : [added, alert]) {
      const hit = source === null ? undefined : names.find((n) => source[n] !== undefined && source[n] !== null);
      if (hit !== undefined) {
        value = source![hit];
        break;
      }
    }
    fields[column.name] = scalar(column.kind, value);
  }
  return fields as unknown as AlertFields;
}

/** The night of an observation (YYYYMMDD, UTC) from its Julian date. */
export function nightOfJd(jd: number): string {
  const date = new Date((jd - 2440587.5) * 86_400_000);
  return date.toISOString().slice(0, 10).replaceAll('-', '');
}
