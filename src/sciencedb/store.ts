// The science database on disk: a folder with one SQLite file per night (WAL mode: one writer and
// any number of reader processes at once). One row per alert: the sequence a reader's checkpoint
// points at, the identity, the typed columns that filters read, and the Avro datum as it arrived.
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { listFolder } from '../files.ts';
import { COLUMNS } from '../alert/fields.ts';
import { LSST_COLUMNS, LSST_ID_COLUMNS } from '../alert/lsst-fields.ts';
import type { AlertView, Survey } from '../alert/survey.ts';
import { FinkError } from '../errors.ts';

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

export type ColumnKind = 'real' | 'int' | 'text' | 'bool' | 'id';

/** A typed column of the alerts table, and the surveys whose fields fill it (null for the others). */
export interface StoreColumn {
  name: string;
  kind: ColumnKind;
  surveys: readonly Survey[];
}

/** Every typed column: ZTF's and Rubin's side by side, sharing a name (ra, dec) where they mean the same. */
export const STORE_COLUMNS: readonly StoreColumn[] = (() => {
  const columns = new Map<string, StoreColumn>();
  const add = (survey: Survey, name: string, kind: ColumnKind) => {
    const known = columns.get(name);
    if (known !== undefined && known.kind !== kind) throw new Error(`column ${name} is ${known.kind} for ${known.surveys.join(', ')} and ${kind} for ${survey}`);
    columns.set(name, { name, kind, surveys: [...(known?.surveys ?? []), survey] });
  };
  for (const c of COLUMNS) add('ztf', c.name, c.kind);
  for (const c of [...LSST_ID_COLUMNS, ...LSST_COLUMNS]) add('lsst', c.name, c.kind);
  return [...columns.values()];
})();

const SQL_TYPE: Record<ColumnKind, string> = { real: 'REAL', int: 'INTEGER', bool: 'INTEGER', id: 'INTEGER', text: 'TEXT' };

const COLUMN_DDL = STORE_COLUMNS.map((c) => `${c.name} ${SQL_TYPE[c.kind]}`).join(',\n  ');

// `candid` is the alert's id within its survey (ZTF candid, Rubin diaSourceId) and `objectId` the
// partition key of its object (AlertView.objectKey): the names are those of the files written
// before Rubin, which keep them.
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
  survey TEXT NOT NULL DEFAULT 'ztf',
  candid INTEGER NOT NULL,
  objectId TEXT NOT NULL,
  schema_id TEXT NOT NULL,
  datum BLOB NOT NULL,
  added_schema_id TEXT,
  added BLOB,
  ingested_ms INTEGER NOT NULL,
  ${COLUMN_DDL}
);
CREATE TABLE IF NOT EXISTS upstream_positions (
  topic TEXT NOT NULL,
  partition INTEGER NOT NULL,
  next_offset INTEGER NOT NULL,
  epoch INTEGER NOT NULL,
  PRIMARY KEY (topic, partition)
);
`;

const INDEXES = `
CREATE UNIQUE INDEX IF NOT EXISTS alerts_identity ON alerts (survey, candid);
CREATE INDEX IF NOT EXISTS alerts_objectId ON alerts (objectId);
`;

/** The columns of a night's alerts table (a file written before Rubin lacks `survey` and Rubin's columns). */
export function alertColumns(db: DatabaseSync): Set<string> {
  return new Set((db.prepare('PRAGMA table_info(alerts)').all() as { name: string }[]).map((c) => c.name));
}

/**
 * Brings a night written before Rubin up to date, inside the caller's transaction: its alerts are
 * ZTF's (the survey column's default), Rubin's columns are added empty, and alerts are unique per
 * survey. Its old UNIQUE(candid) stays (dropping it means rewriting every row of the table under
 * its readers); `NightWriter` names the rare alert of another survey it then refuses.
 */
function migrate(db: DatabaseSync): void {
  const present = alertColumns(db);
  if (!present.has('survey')) db.exec("ALTER TABLE alerts ADD COLUMN survey TEXT NOT NULL DEFAULT 'ztf'");
  for (const c of STORE_COLUMNS) if (!present.has(c.name)) db.exec(`ALTER TABLE alerts ADD COLUMN ${c.name} ${SQL_TYPE[c.kind]}`);
  db.exec(INDEXES);
}

/** The page size of a new night file (SQLite's largest). */
export const NIGHT_PAGE_SIZE = 65_536;

/** Opens one night's database; with `create`, for writing: created, or an older file brought up to date. */
export function openNight(dir: string, night: string, options: { create: boolean }): DatabaseSync {
  if (options.create) mkdirSync(dir, { recursive: true });
  const db = new DatabaseSync(nightFile(dir, night), { readOnly: false });
  // A reader waits for a writer's checkpoint instead of failing with SQLITE_BUSY.
  db.exec('PRAGMA busy_timeout = 10000');
  if (options.create) {
    // Set before the file's first table (a night that exists keeps its own): alerts are blobs of
    // 5 to 200 KB, so a 4 KB page stored one in up to 50 overflow pages, each its own write to the
    // log and again to the file at the checkpoint. With 64 KB pages, stream2science spends about
    // half the CPU on storing a Rubin alert (BENCHMARKS.md, stream2science's CPU).
    db.exec(`PRAGMA page_size = ${NIGHT_PAGE_SIZE}`);
    db.exec('PRAGMA journal_mode = WAL');
    // FULL: a committed alert is on disk before the commit returns. With NORMAL (WAL) a power cut
    // could lose the last commits after the distribution had already sent them and checkpointed
    // past them; the night's next alerts would then take their sequences and never be sent.
    // Measured: 3,000 one-alert files ingest in 0.97 s instead of 0.57 s.
    db.exec('PRAGMA synchronous = FULL');
    // One transaction: a reader never sees a night with some of its tables.
    immediate(db, () => {
      db.exec(DDL);
      migrate(db);
    });
  }
  return db;
}

/** Brings a night opened without `create` up to date before it is written (see `migrate`). */
export function upgradeNight(db: DatabaseSync): void {
  if (!alertColumns(db).has('survey')) immediate(db, () => migrate(db));
}

function immediate(db: DatabaseSync, work: () => void): void {
  db.exec('BEGIN IMMEDIATE');
  try {
    work();
    db.exec('COMMIT');
  } catch (err) {
    db.exec('ROLLBACK');
    throw err;
  }
}

/** An alert ready to be stored: its view (survey, identity, night, typed fields) and its datum. */
export type NewAlert = AlertView & {
  schemaId: string;
  schemaJson: string;
  datum: Uint8Array;
  added: { schemaId: string; schemaJson: string; datum: Uint8Array } | null;
};

/** The bytes of alerts' datums and added datums: what a transaction of them weighs. */
export function alertBytes(alerts: readonly NewAlert[]): number {
  let bytes = 0;
  for (const a of alerts) bytes += a.datum.length + (a.added?.datum.length ?? 0);
  return bytes;
}

type SqlValue = number | string | bigint | null;

/** The typed columns' values of an alert, in STORE_COLUMNS order: null where its survey has no such field. */
export function columnValues(alert: Pick<AlertView, 'survey' | 'fields'>): SqlValue[] {
  const f = alert.fields as unknown as Record<string, number | string | bigint | boolean | null | undefined>;
  return STORE_COLUMNS.map((c) => {
    if (!c.surveys.includes(alert.survey)) return null;
    const v = f[c.name] ?? null;
    return typeof v === 'boolean' ? (v ? 1 : 0) : v;
  });
}

const INSERT_COLUMNS = ['survey', 'candid', 'objectId', 'schema_id', 'datum', 'added_schema_id', 'added', 'ingested_ms', ...STORE_COLUMNS.map((c) => c.name)];

/**
 * Where stream2science stands in an upstream partition: the next offset to read, committed in the
 * same transaction as the alerts before it (see src/sciencedb/positions.ts). `epoch` counts the
 * operator's resets: a reset may move a position back.
 */
export interface UpstreamPosition {
  topic: string;
  partition: number;
  next: bigint;
  epoch: number;
}

/**
 * Writes alerts of one night in a single transaction, with the upstream positions they bring the
 * consumer to; returns how many alerts were new (by candid).
 */
export class NightWriter {
  readonly db: DatabaseSync;
  readonly #insert: StatementSync;
  readonly #schema: StatementSync;
  readonly #knownSchemas = new Set<string>();
  readonly #stored: StatementSync;
  readonly #position: StatementSync;
  readonly #night: string;

  constructor(dir: string, night: string) {
    this.db = openNight(dir, night, { create: true });
    this.#insert = this.db.prepare(
      `INSERT INTO alerts (${INSERT_COLUMNS.join(', ')}) VALUES (${INSERT_COLUMNS.map(() => '?').join(', ')}) ON CONFLICT DO NOTHING`,
    );
    this.#stored = this.db.prepare('SELECT 1 FROM alerts WHERE survey = ? AND candid = ?');
    this.#position = this.db.prepare(
      'INSERT INTO upstream_positions (topic, partition, next_offset, epoch) VALUES (?, ?, ?, ?) ON CONFLICT (topic, partition) DO UPDATE SET next_offset = excluded.next_offset, epoch = excluded.epoch',
    );
    this.#night = night;
    this.#schema = this.db.prepare('INSERT INTO schemas (id, json) VALUES (?, ?) ON CONFLICT (id) DO NOTHING');
  }

  /**
   * Inserts alerts, and records `positions`, atomically. Returns the number of alerts actually
   * inserted (alerts already stored are not).
   */
  write(alerts: readonly NewAlert[], positions: readonly UpstreamPosition[] = []): number {
    let inserted = 0;
    const now = Date.now();
    this.db.exec('BEGIN IMMEDIATE');
    try {
      for (const alert of alerts) {
        this.#rememberSchema(alert.schemaId, alert.schemaJson);
        if (alert.added !== null) this.#rememberSchema(alert.added.schemaId, alert.added.schemaJson);
        const result = this.#insert.run(
          alert.survey, alert.alertId, alert.objectKey, alert.schemaId, alert.datum,
          alert.added?.schemaId ?? null, alert.added?.datum ?? null, now,
          ...columnValues(alert),
        );
        if (result.changes === 0 && this.#stored.get(alert.survey, alert.alertId) === undefined) {
          // Only a night written before Rubin (still UNIQUE on candid alone) refuses an alert it does not hold.
          throw new FinkError(`${alert.survey} alert ${alert.alertId} cannot be stored in night ${this.#night}: its file predates surveys and holds another survey's alert with that id`);
        }
        inserted += Number(result.changes);
      }
      for (const p of positions) this.#position.run(p.topic, p.partition, p.next, p.epoch);
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
    for (const [night, group] of byNight) inserted += this.night(night).write(group);
    return inserted;
  }

  /** The writer of a night, opened once. */
  night(night: string): NightWriter {
    let writer = this.#nights.get(night);
    if (writer === undefined) this.#nights.set(night, (writer = new NightWriter(this.#dir, night)));
    return writer;
  }

  close(): void {
    for (const writer of this.#nights.values()) writer.close();
    this.#nights.clear();
  }
}
