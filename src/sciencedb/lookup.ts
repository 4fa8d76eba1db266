// Read-only look-up of stored alerts by objectId or candid, for the console's search: every night
// is asked through an index, newest night first.
import { DatabaseSync, type SQLInputValue } from 'node:sqlite';
import { SURVEYS } from '../alert/survey.ts';
import { alertColumns, listNights, nightFile } from './store.ts';
import { hasTable } from './tables.ts';

export interface FoundAlert {
  night: string;
  seq: number;
  ingestedMs: number;
  schemaJson: string;
  datum: Uint8Array;
  added: { schemaJson: string; datum: Uint8Array } | null;
}

export type AlertKey = { objectId: string } | { candid: bigint };

/**
 * The look-up's statement on one night. A candid is unique per survey (the index is on (survey,
 * candid)): naming every survey lets SQLite seek that index instead of reading the whole night. A
 * night written before Rubin, never upgraded, has no survey column and its UNIQUE(candid) instead.
 */
export function lookupStatement(columns: ReadonlySet<string>, key: AlertKey): { sql: string; params: SQLInputValue[] } {
  const [where, params]: [string, SQLInputValue[]] =
    'objectId' in key ? ['a.objectId = ?', [key.objectId]]
    : columns.has('survey') ? [`a.survey IN (${SURVEYS.map(() => '?').join(', ')}) AND a.candid = ?`, [...SURVEYS, key.candid]]
    : ['a.candid = ?', [key.candid]];
  const sql = `SELECT a.seq, a.ingested_ms, a.datum, a.added, s.json AS schema_json, t.json AS added_json
        FROM alerts a JOIN schemas s ON s.id = a.schema_id LEFT JOIN schemas t ON t.id = a.added_schema_id
        WHERE ${where} ORDER BY a.seq DESC LIMIT ?`;
  return { sql, params };
}

export function findAlerts(dir: string, key: AlertKey, limit: number): FoundAlert[] {
  const found: FoundAlert[] = [];
  for (const night of listNights(dir).reverse()) {
    if (found.length >= limit) break;
    const db = new DatabaseSync(nightFile(dir, night), { readOnly: true });
    try {
      // A night whose tables a writer has not committed yet holds nothing to find.
      const columns = alertColumns(db);
      if (columns.size === 0 || !hasTable(db, 'schemas')) continue;
      const { sql, params } = lookupStatement(columns, key);
      for (const row of db.prepare(sql).all(...params, limit - found.length)) {
        found.push({
          night,
          seq: Number(row.seq),
          ingestedMs: Number(row.ingested_ms),
          schemaJson: row.schema_json as string,
          datum: row.datum as Uint8Array,
          added: row.added === null || row.added_json === null ? null : { schemaJson: row.added_json as string, datum: row.added as Uint8Array },
        });
      }
    } finally {
      db.close();
    }
  }
  return found;
}
