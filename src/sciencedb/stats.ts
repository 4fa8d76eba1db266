// `fink db stats`: what the science database holds, per survey and night and per writer schema.
import { alertColumns, listNights, nightBytes, nightFile, openNight } from './store.ts';

export interface DbStats {
  path: string;
  alerts: number;
  bytes: number;
  /** Survey -> alerts. */
  surveys: Record<string, number>;
  /** Per night, with its alerts per survey. */
  nights: Record<string, { alerts: number; bytes: number; file: string; surveys: Record<string, number> }>;
  /** Writer schemas by fingerprint: their top-level fields and how many alerts use them. */
  schemas: Record<string, { name: string; fields: string[]; alerts: number }>;
}

export function dbStats(dir: string): DbStats {
  const stats: DbStats = { path: dir, alerts: 0, bytes: 0, surveys: {}, nights: {}, schemas: {} };
  for (const night of listNights(dir)) {
    const db = openNight(dir, night, { create: false });
    try {
      // A night written before surveys holds ZTF alerts only.
      const survey = alertColumns(db).has('survey') ? 'survey' : "'ztf'";
      const counts = db.prepare(`SELECT ${survey} AS survey, count(*) AS n FROM alerts GROUP BY 1 ORDER BY 1`).all() as { survey: string; n: number }[];
      const surveys = Object.fromEntries(counts.map((c) => [c.survey, c.n]));
      const n = counts.reduce((sum, c) => sum + c.n, 0);
      for (const c of counts) stats.surveys[c.survey] = (stats.surveys[c.survey] ?? 0) + c.n;
      const bytes = nightBytes(dir, night);
      stats.nights[night] = { alerts: n, bytes, file: nightFile(dir, night), surveys };
      stats.alerts += n;
      stats.bytes += bytes;
      const uses = db.prepare('SELECT schema_id AS id, count(*) AS n FROM alerts GROUP BY schema_id').all() as { id: string; n: number }[];
      for (const { id, n: count } of uses) {
        let entry = stats.schemas[id];
        if (entry === undefined) {
          const { json } = db.prepare('SELECT json FROM schemas WHERE id = ?').get(id) as { json: string };
          const schema = JSON.parse(json) as { name: string; fields: { name: string }[] };
          entry = stats.schemas[id] = { name: schema.name, fields: schema.fields.map((f) => f.name), alerts: 0 };
        }
        entry.alerts += count;
      }
    } finally {
      db.close();
    }
  }
  return stats;
}
