// `fink db stats`: what the science database holds, per night and per writer schema.
import { listNights, nightBytes, nightFile, openNight } from './store.ts';

export interface DbStats {
  path: string;
  alerts: number;
  bytes: number;
  nights: Record<string, { alerts: number; bytes: number; file: string }>;
  /** Writer schemas by fingerprint: their top-level fields and how many alerts use them. */
  schemas: Record<string, { name: string; fields: string[]; alerts: number }>;
}

export function dbStats(dir: string): DbStats {
  const stats: DbStats = { path: dir, alerts: 0, bytes: 0, nights: {}, schemas: {} };
  for (const night of listNights(dir)) {
    const db = openNight(dir, night, { create: false });
    try {
      const { n } = db.prepare('SELECT count(*) AS n FROM alerts').get() as { n: number };
      const bytes = nightBytes(dir, night);
      stats.nights[night] = { alerts: n, bytes, file: nightFile(dir, night) };
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
