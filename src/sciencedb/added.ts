// Values a broker adds to an alert after ingest (a classifier's score, a cross-match): stored as a
// small datum of their own beside the alert's untouched datum. On the wire they become trailing
// top-level fields of the alert (docs/architecture.md, Science database).
import { compactSchemaJson, extendRecord, isRecordSchema, parseAvroType, schemaFingerprint, type RecordSchema } from '../avro/schema.ts';
import { viewAlert, type Survey } from '../alert/survey.ts';
import { alertColumns, columnValues, listNights, openNight, STORE_COLUMNS, upgradeNight } from './store.ts';
import { FinkError } from '../errors.ts';

/** Added values that cannot be stored beside their alert. */
export class AddValuesError extends FinkError {
  constructor(message: string) {
    super(message, { code: 'FINK_ADD_VALUES' });
    this.name = 'AddValuesError';
  }
}

/**
 * Adds values to the stored alert `candid` (the alert's id within `survey`: a Rubin diaSourceId for lsst). `schema` is a record whose fields are the added values;
 * values added before are kept (a field added again takes its new value and type). Returns the night
 * the alert lives in.
 */
export function addValues(dir: string, candid: bigint, schema: RecordSchema, values: Record<string, unknown>, survey: Survey = 'ztf'): string {
  for (const night of listNights(dir)) {
    const db = openNight(dir, night, { create: false });
    try {
      // A night written before surveys holds ZTF alerts only; it is brought up to date once the alert is found there.
      const current = alertColumns(db).has('survey');
      if (!current && survey !== 'ztf') continue;
      const find = db.prepare(`SELECT seq, schema_id, datum, added_schema_id, added FROM alerts WHERE ${current ? 'survey = ? AND ' : ''}candid = ?`);
      find.setReadBigInts(true);
      const row = (current ? find.get(survey, candid) : find.get(candid)) as { seq: bigint; schema_id: string; datum: Uint8Array; added_schema_id: string | null; added: Uint8Array | null } | undefined;
      if (row === undefined) continue;
      const schemaOf = (id: string): RecordSchema => {
        const { json } = db.prepare('SELECT json FROM schemas WHERE id = ?').get(id) as { json: string };
        return JSON.parse(json) as RecordSchema;
      };
      const alertSchema = schemaOf(row.schema_id);
      let merged: RecordSchema = schema;
      let mergedValues = values;
      if (row.added_schema_id !== null && row.added !== null) {
        const before = schemaOf(row.added_schema_id);
        const old = parseAvroType(before).fromBuffer(Buffer.from(row.added)) as Record<string, unknown>;
        const kept = before.fields.filter((f) => !schema.fields.some((n) => n.name === f.name));
        merged = { ...schema, fields: [...kept, ...schema.fields] };
        mergedValues = { ...Object.fromEntries(kept.map((f) => [f.name, old[f.name]])), ...values };
      }
      if (!isRecordSchema(merged)) throw new AddValuesError('the added values must be described by a record schema');
      try {
        extendRecord(alertSchema, merged.fields);
      } catch (err) {
        throw new AddValuesError(`alert ${candid}: ${(err as Error).message}`);
      }
      const type = parseAvroType(merged);
      let datum: Buffer;
      try {
        datum = type.toBuffer(mergedValues);
      } catch (err) {
        throw new AddValuesError(`alert ${candid}: the values do not match their schema (${(err as Error).message})`);
      }
      const id = schemaFingerprint(type);
      const alert = parseAvroType(alertSchema).fromBuffer(Buffer.from(row.datum)) as Record<string, unknown>;
      const view = viewAlert(survey, alert, type.fromBuffer(datum) as Record<string, unknown>);
      const typed = STORE_COLUMNS.map((c) => c.name);
      upgradeNight(db);
      db.exec('BEGIN IMMEDIATE');
      try {
        db.prepare('INSERT INTO schemas (id, json) VALUES (?, ?) ON CONFLICT (id) DO NOTHING').run(id, compactSchemaJson(merged));
        db.prepare(`UPDATE alerts SET added_schema_id = ?, added = ?, ${typed.map((c) => `${c} = ?`).join(', ')} WHERE seq = ?`)
          .run(id, datum, ...columnValues(view), row.seq);
        db.exec('COMMIT');
      } catch (err) {
        db.exec('ROLLBACK');
        throw err;
      }
      return night;
    } finally {
      db.close();
    }
  }
  throw new AddValuesError(`${survey} alert ${candid} is not in the science database at ${dir}`);
}
