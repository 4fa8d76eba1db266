// Read-only look-up of stored alerts by objectId or candid, for the console's search: every night
// is asked (objectId is indexed, candid is unique), newest night first.
import { DatabaseSync } from 'node:sqlite';
import { listNights, nightFile } from './store.ts';
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

export function findAlerts(dir: string, key: AlertKey, limit: number): FoundAlert[] {
  const found: FoundAlert[] = [];
  const [where, value] = 'objectId' in key ? ['objectId = ?', key.objectId] : ['candid = ?', key.candid];
  for (const night of listNights(dir).reverse()) {
    if (found.length >= limit) break;
    const db = new DatabaseSync(nightFile(dir, night), { readOnly: true });
    try {
      // A night whose tables a writer has not committed yet holds nothing to find.
      if (!hasTable(db, 'alerts') || !hasTable(db, 'schemas')) continue;
      const select = db.prepare(`SELECT a.seq, a.ingested_ms, a.datum, a.added, s.json AS schema_json, t.json AS added_json
        FROM alerts a JOIN schemas s ON s.id = a.schema_id LEFT JOIN schemas t ON t.id = a.added_schema_id
        WHERE a.${where} ORDER BY a.seq DESC LIMIT ?`);
      for (const row of select.all(value, limit - found.length)) {
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
