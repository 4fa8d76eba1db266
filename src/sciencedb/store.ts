// The science database on disk: a folder with one SQLite file per night (WAL mode: one writer and
// any number of reader processes at once). One row per alert: the sequence a reader's checkpoint
// points at, the identity, the typed columns that filters read, and the Avro datum as it arrived.
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { listFolder } from '../files.ts';
import { COLUMNS, type AlertFields } from '../alert/fields.ts';

const NIGHT_FILE = /^(\d{8})\.sqlite$/;

export function nightFile(dir: string, night: string): string {
  return join(dir, `${night}.sqlite`);
}

/** The nights present in a science database folder, oldest first. */
export function listNights(dir: string): string[] {
  return listFolder(dir).flatMap((n) => NIGHT_FILE.exec(n)?.[1] ?? []).sort();
}

/** Bytes on disk of a night (its file and its write-ahead log). */
export function nightBytes(dir: string, night: string): number {
  const base = nightFile(dir, night);
  return [base, `${base}-wal`, `${base}-shm`].reduce((sum, f) => {
    try {
      return sum + statSync(f).size;
    } catch {
      // Absent files hold no bytes: the log and shared-memory files exist only while a connection has the night open.
      return sum;
    }
  }, 0);
}

const COLUMN_DDL = COLUMNS.map((c) => `${c.name} ${c.kind === 'real' ? 'REAL' : c.kind === 'int' ? 'INTEGER' : 'TEXT'}`).join(',\n  ');

const DDL = `
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
INSERT INTO meta (key, value) VALUES ('id', lower(hex(randomblob(8)))) ON CONFLICT (key) DO NOTHING;
CREATE TABLE IF NOT EXISTS schemas (
  id TEXT PRIMARY KEY,
  json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS alerts (
  seq INTEGER PRIMARY KEY,
  candid INTEGER NOT NULL UNIQUE,
  objectId TEXT NOT NULL,
  schema_id TEXT NOT NULL,
  datum BLOB NOT NULL,
  added_schema_id TEXT,
  added BLOB,
  ingested_ms INTEGER NOT NULL,
  ${COLUMN_DDL}
);
CREATE INDEX IF NOT EXISTS alerts_objectId ON alerts (objectId);
`;

/** Opens (creating if asked) one night's database. */
export function openNight(dir: string, night: string, options: { create: boolean }): DatabaseSync {
  if (options.create) mkdirSync(dir, { recursive: true });
  const db = new DatabaseSync(nightFile(dir, night), { readOnly: false });
  // A reader waits for a writer's checkpoint instead of failing with SQLITE_BUSY.
  db.exec('PRAGMA busy_timeout = 10000');
  if (options.create) {
    db.exec('PRAGMA journal_mode = WAL');
    // FULL: a committed alert is on disk before the commit returns. With NORMAL (WAL) a power cut
    // could lose the last commits after the distribution had already sent them and checkpointed
    // past them; the night's next alerts would then take their sequences and never be sent.
    // Measured: 3,000 one-alert files ingest in 0.97 s instead of 0.57 s.
    db.exec('PRAGMA synchronous = FULL');
    // One transaction: a reader never sees a night with some of its tables.
    db.exec(`BEGIN IMMEDIATE; ${DDL} COMMIT;`);
  }
  return db;
}

/** An alert ready to be stored. */
export interface NewAlert {
  night: string;
  schemaId: string;
  schemaJson: string;
  datum: Uint8Array;
  added: { schemaId: string; schemaJson: string; datum: Uint8Array } | null;
  fields: AlertFields;
}

const INSERT_COLUMNS = ['candid', 'objectId', 'schema_id', 'datum', 'added_schema_id', 'added', 'ingested_ms', ...COLUMNS.map((c) => c.name)];

/** Writes alerts of one night in a single transaction; returns how many were new (by candid). */
export class NightWriter {
  readonly db: DatabaseSync;
  readonly #insert: StatementSync;
  readonly #schema: StatementSync;
  readonly #knownSchemas = new Set<string>();

  constructor(dir: string, night: string) {
    this.db = openNight(dir, night, { create: true });
    this.#insert = this.db.prepare(
      `INSERT INTO alerts (${INSERT_COLUMNS.join(', ')}) VALUES (${INSERT_COLUMNS.map(() => '?').join(', ')}) ON CONFLICT (candid) DO NOTHING`,
    );
    this.#schema = this.db.prepare('INSERT INTO schemas (id, json) VALUES (?, ?) ON CONFLICT (id) DO NOTHING');
  }

  /** Inserts alerts atomically. Returns the number actually inserted (re-ingested candids are not). */
  write(alerts: readonly NewAlert[]): number {
    let inserted = 0;
    const now = Date.now();
    this.db.exec('BEGIN IMMEDIATE');
    try {
      for (const alert of alerts) {
        this.#rememberSchema(alert.schemaId, alert.schemaJson);
        if (alert.added !== null) this.#rememberSchema(alert.added.schemaId, alert.added.schemaJson);
        const f = alert.fields as unknown as Record<string, number | string | bigint | null>;
        const result = this.#insert.run(
          f.candid!, f.objectId!, alert.schemaId, alert.datum,
          alert.added?.schemaId ?? null, alert.added?.datum ?? null, now,
          ...COLUMNS.map((c) => f[c.name] ?? null),
        );
        inserted += Number(result.changes);
      }
      this.db.exec('COMMIT');
    } catch (err) {
      this.db.exec('ROLLBACK');
      throw err;
    }
    return inserted;
  }

  #rememberSchema(id: string, json: string): void {
    if (this.#knownSchemas.has(id)) return;
    this.#schema.run(id, json);
    this.#knownSchemas.add(id);
  }

  close(): void {
    this.db.close();
  }
}

/** Routes alerts to the writer of their night, opening each night once. */
export class ScienceWriter {
  readonly #dir: string;
  readonly #nights = new Map<string, NightWriter>();

  constructor(dir: string) {
    this.#dir = dir;
  }

  /** Writes a group of alerts; each night's share is one transaction. Returns the number inserted. */
  write(alerts: readonly NewAlert[]): number {
    const byNight = new Map<string, NewAlert[]>();
    for (const alert of alerts) {
      let group = byNight.get(alert.night);
      if (group === undefined) byNight.set(alert.night, (group = []));
      group.push(alert);
    }
    let inserted = 0;
    for (const [night, group] of byNight) inserted += this.#writer(night).write(group);
    return inserted;
  }

  #writer(night: string): NightWriter {
    let writer = this.#nights.get(night);
    if (writer === undefined) this.#nights.set(night, (writer = new NightWriter(this.#dir, night)));
    return writer;
  }

  close(): void {
    for (const writer of this.#nights.values()) writer.close();
    this.#nights.clear();
  }
}
