// Reading the science database after a checkpoint, in batches: the seam between the store and the
// distribution. Small on purpose, so that a server database or a lake on shared storage can
// implement it too.
import { statSync } from 'node:fs';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { AlertView } from '../alert/survey.ts';
import { FinkError } from '../errors.ts';
import { alertColumns, listNights, nightFile, openNight, STORE_COLUMNS } from './store.ts';
import { hasTable } from './tables.ts';

/**
 * A night's file was deleted and created again, or replaced, while it was open: what was read of
 * it says nothing of the new one, so the reader stops rather than carry on at the old position.
 */
export class StoreReplacedError extends FinkError {
  readonly night: string;
  constructor(night: string, file: string) {
    super(`the science database of night ${night} (${file}) was replaced while it was being read`, { code: 'FINK_STORE_REPLACED' });
    this.name = 'StoreReplacedError';
    this.night = night;
  }
}

/** A stored alert: its view (survey, alertId, objectKey, the survey's fields) and its bytes. */
export type StoredAlert = AlertView & {
  /** Increasing within its night: what a checkpoint records. */
  seq: number;
  /** Fingerprint of the writer schema of `datum`. */
  schemaId: string;
  /** The alert's Avro datum exactly as it arrived. */
  datum: Uint8Array;
  /** `datum` followed by the added values' datum, contiguous (`datum` and `added.datum` are views into it). */
  wire: Uint8Array;
  /** Values added after ingest: a record whose fields go after the alert's as trailing top-level fields. */
  added: { schemaId: string; datum: Uint8Array } | null;
  /** When the alert was stored (ms since the epoch): the start of its end-to-end latency. */
  ingestedMs: number;
};

/** Night (YYYYMMDD) -> the last sequence already handled. Per night, so a late alert of an older night is never skipped. */
export type Checkpoint = Readonly<Record<string, number>>;

export interface AlertReader {
  /**
   * Up to `limit` alerts after the checkpoint, oldest night first, and the checkpoint after them;
   * with `until`, none beyond it (nights absent from `until` are not read). The alerts stop once
   * their bytes reach `maxBytes` (at least one alert is read).
   */
  read(after: Checkpoint, limit: number, until?: Checkpoint, maxBytes?: number): { alerts: StoredAlert[]; checkpoint: Checkpoint };
  /** The checkpoint of everything stored now. */
  head(): Checkpoint;
  /**
   * Night -> an identity drawn when the night's store was created: a checkpoint is only valid for
   * the store it was taken on (a night deleted and ingested again starts from its first alert).
   */
  identities(): Record<string, string>;
  /** How many alerts are stored after the checkpoint. */
  lag(after: Checkpoint): number;
  /** The JSON text of a stored schema. */
  schemaJson(schemaId: string): string;
  close(): void;
}

// The datum and the added datum come out as one blob (CAST keeps SQLite's || byte-exact on blobs):
// that is the wire value of a full topic, and `datum` and `added` are views into it, so no alert
// is copied twice on its way to Kafka.
// A night written before Rubin, not yet brought up to date by a writer, has none of the survey's
// columns: its alerts are ZTF's and Rubin's fields are null.
function selectSql(present: Set<string>): string {
  const typed = STORE_COLUMNS.map((c) => (present.has(c.name) ? c.name : `NULL AS ${c.name}`));
  return `SELECT seq, ${present.has('survey') ? 'survey' : "'ztf' AS survey"}, schema_id,
  CAST(datum || coalesce(added, x'') AS BLOB) AS wire, length(datum) AS datum_length,
  added_schema_id, ingested_ms, candid, objectId, ${typed.join(', ')}
  FROM alerts WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?`;
}

interface Night {
  db: DatabaseSync;
  select: StatementSync;
  /** False while the file predates surveys: a writer may bring it up to date at any time. */
  current: boolean;
  max: StatementSync;
  /** Drawn when the store was created; undefined for a store written before identities existed. */
  id: string | undefined;
  /** The file's identity on disk when it was opened. */
  inode: string;
}

/** Device and inode: a file deleted and created again, or renamed over, has another. */
function fileIdentity(file: string): string | undefined {
  try {
    const st = statSync(file, { bigint: true });
    return `${st.dev}:${st.ino}`;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function storeIdentity(db: DatabaseSync): string | undefined {
  // A store written before identities existed has no meta table: it is read without that check.
  if (!hasTable(db, 'meta')) return undefined;
  return (db.prepare("SELECT value FROM meta WHERE key = 'id'").get() as { value: string } | undefined)?.value;
}

class SqliteReader implements AlertReader {
  readonly #dir: string;
  readonly #nights = new Map<string, Night>();
  readonly #schemas = new Map<string, string>();

  constructor(dir: string) {
    this.#dir = dir;
  }

  /** A night's store, or undefined while a writer is still creating it (its tables not yet committed). */
  #openNight(name: string): Night | undefined {
    const file = nightFile(this.#dir, name);
    let night = this.#nights.get(name);
    if (night !== undefined && fileIdentity(file) !== night.inode) {
      night.db.close();
      this.#nights.delete(name);
      throw new StoreReplacedError(name, file);
    }
    if (night === undefined) {
      const inode = fileIdentity(file);
      if (inode === undefined) return undefined;
      const db = openNight(this.#dir, name, { create: false });
      // Replaced between the look and the open: the handle may be of either file; look again later.
      if (fileIdentity(file) !== inode) {
        db.close();
        return undefined;
      }
      try {
        const prepared = prepareSelect(db);
        if (prepared.state === 'not-ready') {
          db.close();
          return undefined;
        }
        night = { db, select: prepared.select, current: prepared.current, max: db.prepare('SELECT coalesce(max(seq), 0) AS m FROM alerts'), id: storeIdentity(db), inode };
      } catch (err) {
        db.close();
        throw err;
      }
      this.#nights.set(name, night);
    } else if (!night.current) {
      // Its alerts table exists (the night was ready), so it stays ready; a writer may have brought it up to date.
      const prepared = prepareSelect(night.db);
      if (prepared.state === 'ready') Object.assign(night, { select: prepared.select, current: prepared.current });
    }
    return night;
  }

  /** The nights whose stores are ready, oldest first. */
  #ready(): [string, Night][] {
    return listNights(this.#dir).flatMap((name) => {
      const night = this.#openNight(name);
      return night === undefined ? [] : [[name, night] as [string, Night]];
    });
  }

  read(after: Checkpoint, limit: number, until?: Checkpoint, maxBytes = Number.POSITIVE_INFINITY): { alerts: StoredAlert[]; checkpoint: Checkpoint } {
    const alerts: StoredAlert[] = [];
    const checkpoint: Record<string, number> = { ...after };
    let bytes = 0;
    for (const [name, night] of this.#ready()) {
      if (alerts.length >= limit || bytes >= maxBytes) break;
      const upTo = until === undefined ? Number.MAX_SAFE_INTEGER : until[name];
      if (upTo === undefined || upTo <= (after[name] ?? 0)) continue;
      // Row by row, so that a byte limit keeps the rows past it in the database, not in memory.
      for (const row of night.select.iterate(after[name] ?? 0, upTo, limit - alerts.length)) {
        const alert = toAlert(name, row as Row);
        alerts.push(alert);
        checkpoint[name] = alert.seq;
        bytes += alert.wire.length;
        if (bytes >= maxBytes) break;
      }
    }
    return { alerts, checkpoint };
  }

  head(): Checkpoint {
    const head: Record<string, number> = {};
    for (const [name, night] of this.#ready()) head[name] = Number((night.max.get() as { m: number | bigint }).m);
    return head;
  }

  identities(): Record<string, string> {
    const ids: Record<string, string> = {};
    for (const [name, night] of this.#ready()) if (night.id !== undefined) ids[name] = night.id;
    return ids;
  }

  lag(after: Checkpoint): number {
    // Sequences are dense (rows are never deleted; an insert that conflicts takes no rowid), so the
    // head minus the checkpoint counts what is left without scanning the rows.
    const head = this.head();
    return Object.entries(head).reduce((sum, [night, seq]) => sum + Math.max(0, seq - (after[night] ?? 0)), 0);
  }

  schemaJson(schemaId: string): string {
    let json = this.#schemas.get(schemaId);
    if (json !== undefined) return json;
    for (const [, night] of this.#ready()) {
      const row = night.db.prepare('SELECT json FROM schemas WHERE id = ?').get(schemaId) as { json: string } | undefined;
      if (row !== undefined) {
        json = row.json;
        this.#schemas.set(schemaId, json);
        return json;
      }
    }
    throw new FinkError(`schema ${schemaId} is not in the science database at ${this.#dir}`, { code: 'FINK_SCHEMA_MISSING' });
  }

  close(): void {
    for (const night of this.#nights.values()) night.db.close();
    this.#nights.clear();
  }
}

/** A night's select, or `not-ready` while a writer has not yet committed its alerts table. */
export type PreparedSelect = { state: 'not-ready' } | { state: 'ready'; select: StatementSync; current: boolean };

export function prepareSelect(db: DatabaseSync): PreparedSelect {
  const present = alertColumns(db);
  if (present.size === 0) return { state: 'not-ready' };
  const select = db.prepare(selectSql(present));
  // Ids exceed 2^53; the other integers are converted back to numbers below.
  select.setReadBigInts(true);
  return { state: 'ready', select, current: present.has('survey') };
}

type Row = Record<string, unknown>;

function columnValue(kind: (typeof STORE_COLUMNS)[number]['kind'], value: unknown): unknown {
  if (value === null) return null;
  switch (kind) {
    case 'text':
    case 'id': return value;
    case 'bool': return Number(value) !== 0;
    default: return Number(value);
  }
}

function toAlert(night: string, row: Row): StoredAlert {
  const wire = row.wire as Uint8Array;
  const datumLength = Number(row.datum_length);
  const survey = row.survey === 'lsst' ? 'lsst' : 'ztf';
  const fields: Record<string, unknown> = survey === 'lsst' ? { diaSourceId: row.candid } : { objectId: row.objectId, candid: row.candid };
  for (const c of STORE_COLUMNS) if (c.surveys.includes(survey)) fields[c.name] = columnValue(c.kind, row[c.name]);
  return {
    survey,
    alertId: row.candid as bigint,
    objectKey: row.objectId as string,
    night,
    seq: Number(row.seq),
    schemaId: row.schema_id as string,
    wire,
    datum: wire.subarray(0, datumLength),
    added: row.added_schema_id === null ? null : { schemaId: row.added_schema_id as string, datum: wire.subarray(datumLength) },
    ingestedMs: Number(row.ingested_ms),
    fields,
  } as unknown as StoredAlert;
}

/** Opens the embedded science database at a folder for reading (it need not exist yet). */
export function openReader(dir: string): AlertReader {
  return new SqliteReader(dir);
}
