// Turns an Avro container file into alerts ready for the science database: each datum's bytes as
// they arrived, its writer schema (made valid by the spec) and the typed fields decoded from it.
// Alerts come out one at a time, the file read block by block, so a file of any size is decoded in
// bounded memory; every datum is checked against its schema and the limits of src/avro/bounded.ts
// before avsc decodes it.
import { closeSync, openSync } from 'node:fs';
import { fileSource, readContainer, ContainerError, type Container } from '../avro/container.ts';
import { checkDatum, checkSchemaSize, DATUM_LIMITS, DatumError, minimumSize } from '../avro/bounded.ts';
import { projectType, type Projection } from '../avro/projection.ts';
import { checkSchemaShape, compactSchemaJson, isRecordSchema, parseAvroType, sanitizeSchema, schemaFingerprint, type AvroType } from '../avro/schema.ts';
import { AlertError } from '../alert/fields.ts';
import { LSST_FIELD_READS } from '../alert/lsst-fields.ts';
import { surveyOfSchema, viewAlert, type Survey } from '../alert/survey.ts';
import { FinkError } from '../errors.ts';
import { Lru } from '../lru.ts';
import { printable } from '../printable.ts';
import type { NewAlert } from './store.ts';

/** A file that is not a readable alert file; the message says why (the caller names the file). */
export class BadFileError extends FinkError {
  constructor(message: string) {
    super(printable(message), { code: 'FINK_BAD_FILE' });
    this.name = 'BadFileError';
  }
}

export interface WriterSchema {
  survey: Survey;
  id: string;
  json: string;
  type: AvroType;
  /**
   * Decodes only what the typed fields read (a Rubin alert's few values, not its cutouts and
   * history), where the schema allows it; absent, the datum is decoded in full.
   */
  fields?: Projection;
}

/**
 * Parsed writer schemas, by the header text they came from (files of one survey share a few). The
 * text is the file's to choose: the cache keeps the most recently used few.
 */
export class SchemaCache {
  readonly #byText = new Lru<string, WriterSchema>(16);

  /** The writer schema of `text`; `parse` gives its JSON, asked only on a miss (a Rubin stream repeats one text per message). */
  get(text: string, parse: () => unknown = () => JSON.parse(text)): WriterSchema {
    let hit = this.#byText.get(text);
    if (hit === undefined) {
      hit = writerSchema(parse());
      this.#byText.set(text, hit);
    }
    return hit;
  }
}

function writerSchema(schema: unknown): WriterSchema {
  if (!isRecordSchema(schema)) throw new BadFileError('its schema is not a record');
  let valid;
  let type;
  try {
    checkSchemaShape(schema);
    valid = sanitizeSchema(schema);
    type = parseAvroType(valid);
    checkSchemaSize(type);
  } catch (err) {
    // Whatever the header holds (a field that is null, a name that is a number, records nested
    // into millions of values...), the reason is the schema: avsc's message says where.
    throw new BadFileError(`its schema is invalid: ${(err as Error).message}`);
  }
  const survey = surveyOfSchema(valid);
  if (survey === undefined) {
    throw new BadFileError(`its schema (record '${String(valid.name)}') is neither a ZTF alert (objectId, candidate) nor a Rubin alert (lsst.vX_Y.alert)`);
  }
  return { survey, id: schemaFingerprint(type), json: compactSchemaJson(valid), type, fields: fieldsReader(survey, type) };
}

/** The reader of a Rubin writer's typed fields alone, where avsc resolves one (see WriterSchema.fields). */
function fieldsReader(survey: Survey, type: AvroType): Projection | undefined {
  if (survey !== 'lsst') return undefined;
  try {
    return projectType(type, LSST_FIELD_READS);
  } catch {
    // A writer the projection does not resolve is not refused for it: it is decoded in full, as
    // every writer was before the projection (its datums are checked the same either way).
    return undefined;
  }
}

/**
 * The alert whose datum starts at `pos` in `data` under a known writer schema (a container's block,
 * or a schemaless message such as Rubin's), and where its datum ends. The datum is checked against
 * the schema's limits before avsc decodes it; a datum that fails either way throws BadFileError
 * with the reason (the caller names the alert's place).
 */
export function decodeDatum(writer: WriterSchema, data: Buffer, pos = 0): { alert: NewAlert; end: number } {
  let end: number;
  try {
    end = checkDatum(writer.type, data, pos);
  } catch (err) {
    if (err instanceof DatumError) throw new BadFileError(err.message);
    throw err;
  }
  let value: Record<string, unknown>;
  try {
    const { fields } = writer;
    value = (fields === undefined ? writer.type.decode(data, pos) : fields.reader.decode(data, pos, fields.resolver)).value as Record<string, unknown>;
  } catch (err) {
    // The check above leaves avsc nothing to refuse; should it still, the datum is what it refused.
    throw new BadFileError(`does not decode with its schema (${(err as Error).message})`);
  }
  let view;
  try {
    view = viewAlert(writer.survey, value);
  } catch (err) {
    // The view only reads the decoded value: whatever it throws is about this alert, never the
    // machine (an AlertError says what; anything else, a value of a shape it did not expect).
    throw new BadFileError(err instanceof AlertError ? err.message : `its values cannot be read (${(err as Error).message})`);
  }
  return { alert: { ...view, schemaId: writer.id, schemaJson: writer.json, datum: data.subarray(pos, end), added: null }, end };
}

/**
 * The alerts of a container, one at a time. Throws BadFileError (with the reason, and the alert's
 * position or candid) at the first unreadable one.
 */
function* decodeAlerts(open: () => Container, schemas: SchemaCache): Generator<NewAlert> {
  let index = 0;
  try {
    const container = open();
    const writer = schemas.get(container.schemaText, () => container.schema);
    const min = minimumSize(writer.type);
    for (const block of container.blocks()) {
      const { data, count } = block;
      // The count is the block's to say: it must fit the bytes (or, for a schema that can take no
      // bytes, the item budget) before the loop below trusts it.
      if (min > 0 ? count * min > data.length : count > DATUM_LIMITS.maxItems) {
        throw new BadFileError(`corrupt (block ${block.index} says ${count} alerts, more than its ${data.length} bytes can hold)`);
      }
      let pos = 0;
      for (let i = 0; i < count; i++) {
        index++;
        let decoded;
        try {
          decoded = decodeDatum(writer, data, pos);
        } catch (err) {
          if (err instanceof BadFileError) throw new BadFileError(`alert #${index}: ${err.message}`);
          throw err;
        }
        pos = decoded.end;
        yield decoded.alert;
      }
      if (pos !== data.length) throw new BadFileError(`corrupt (block ${block.index} holds ${data.length - pos} bytes after its last alert)`);
    }
  } catch (err) {
    if (err instanceof BadFileError) throw err;
    if (err instanceof ContainerError) throw new BadFileError(err.message);
    // A read that fails (EIO...) is the disk's fault, not the file's: its error names the cause.
    if (typeof (err as NodeJS.ErrnoException).errno === 'number') throw err;
    // The check above leaves avsc nothing to refuse; should it still, the alert is what it refused.
    throw new BadFileError(`${index === 0 ? 'the file' : `alert #${index}`} does not decode with its schema (${(err as Error).message})`);
  }
}

/** Every alert of a container file held in memory, or BadFileError: a file goes in whole or not at all. */
export function decodeAlertFile(buf: Buffer, schemas: SchemaCache): NewAlert[] {
  return [...decodeAlerts(() => readContainer(buf), schemas)];
}

/** The alerts of a container file on disk, read block by block; throws BadFileError or a file system error. */
export function* readAlertFile(path: string, schemas: SchemaCache): Generator<NewAlert> {
  const fd = openSync(path, 'r');
  try {
    yield* decodeAlerts(() => readContainer(fileSource(fd)), schemas);
  } finally {
    closeSync(fd);
  }
}
