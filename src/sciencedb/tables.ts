// Whether a night's file holds a table yet: a writer creates the tables of a new night in one
// transaction, and a reader that comes first must see "not yet", not an error to interpret.
import type { DatabaseSync } from 'node:sqlite';

export function hasTable(db: DatabaseSync, name: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
}
