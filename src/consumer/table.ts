// The alerts read back from a topic, printed as a table: the analogue of the Spark DataFrame that
// Fink's own distribution test shows.
import { extractFields, type AlertFields } from '../alert/fields.ts';
import { printable } from '../printable.ts';

const COLUMNS: { title: string; width: number; value: (f: AlertFields) => string }[] = [
  // Text fields are the sender's: shown with control characters escaped, never raw.
  { title: 'objectId', width: 12, value: (f) => printable(f.objectId) },
  { title: 'candid', width: 19, value: (f) => String(f.candid) },
  { title: 'jd', width: 15, value: (f) => f.jd?.toFixed(6) ?? 'null' },
  { title: 'ra', width: 11, value: (f) => f.ra?.toFixed(6) ?? 'null' },
  { title: 'dec', width: 11, value: (f) => f.dec?.toFixed(6) ?? 'null' },
  { title: 'magpsf', width: 7, value: (f) => f.magpsf?.toFixed(3) ?? 'null' },
  { title: 'fid', width: 3, value: (f) => String(f.fid ?? 'null') },
  { title: 'cdsxmatch', width: 14, value: (f) => (f.cdsxmatch === null ? 'null' : printable(f.cdsxmatch)) },
  { title: 'rf_snia', width: 7, value: (f) => f.rf_snia_vs_nonia?.toFixed(3) ?? 'null' },
  { title: 'snn_snia', width: 8, value: (f) => f.snn_snia_vs_nonia?.toFixed(3) ?? 'null' },
  { title: 'roid', width: 4, value: (f) => String(f.roid ?? 'null') },
];

export function tableRow(record: Record<string, unknown>): string {
  const fields = extractFields(record);
  return COLUMNS.map((c) => c.value(fields).padStart(c.width)).join(' ');
}

export function tableHeader(): string {
  const header = COLUMNS.map((c) => c.title.padStart(c.width)).join(' ');
  return `${header}\n${'-'.repeat(header.length)}`;
}
