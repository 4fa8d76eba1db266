// Turns an Avro container file into alerts ready for the science database: each datum's bytes as
// they arrived, its writer schema (made valid by the spec) and the typed fields decoded from it.
import { readContainer, ContainerError } from '../avro/container.ts';
import { compactSchemaJson, isRecordSchema, parseAvroType, sanitizeSchema, schemaFingerprint, type AvroType } from '../avro/schema.ts';
import { AlertError, extractFields, nightOfJd } from '../alert/fields.ts';
import type { NewAlert } from './store.ts';
import { FinkError } from '../errors.ts';

/** An alert file that cannot be ingested (not Avro, truncated, an alert without identity). */
export class BadFileError extends FinkError {
  constructor(message: string) {
    super(message, { code: 'FINK_BAD_FILE' });
    this.name = 'BadFileError';
  }
}

export interface WriterSchema {
  id: string;
  json: string;
  type: AvroType;
}

/** Parsed writer schemas, by the header text they came from (files of one survey share a few). */
export class SchemaCache {
  readonly #byText = new Map<string, WriterSchema>();

  get(schema: unknown): WriterSchema {
    const text = JSON.stringify(schema);
    let hit = this.#byText.get(text);
    if (hit === undefined) {
      if (!isRecordSchema(schema)) throw new BadFileError('its schema is not a record');
      const valid = sanitizeSchema(schema);
      let type: AvroType;
      try {
        type = parseAvroType(valid);
      } catch (err) {
        throw new BadFileError(`its schema is invalid: ${(err as Error).message}`);
      }
      hit = { id: schemaFingerprint(type), json: compactSchemaJson(valid), type };
      this.#byText.set(text, hit);
    }
    return hit;
  }
}

/**
 * Decodes every alert of a container file. Throws BadFileError (with the reason, and the alert's
 * position or candid) if any alert is unreadable: a file goes in whole or not at all.
 */
export function decodeAlertFile(buf: Buffer, schemas: SchemaCache): NewAlert[] {
  let container;
  try {
    container = readContainer(buf);
  } catch (err) {
    if (err instanceof ContainerError) throw new BadFileError(err.message);
    throw err;
  }
  const writer = schemas.get(container.schema);
  const alerts: NewAlert[] = [];
  try {
    for (const block of container.blocks()) {
      let pos = 0;
      for (let i = 0; i < block.count; i++) {
        const index = alerts.length;
        const { value, offset } = writer.type.decode(block.data, pos);
        if (offset < 0 || offset > block.data.length) throw new BadFileError(`truncated (alert #${index + 1} is cut short)`);
        const datum = block.data.subarray(pos, offset);
        pos = offset;
        let fields;
        try {
          fields = extractFields(value as Record<string, unknown>);
        } catch (err) {
          if (err instanceof AlertError) throw new BadFileError(`alert #${index + 1}: ${err.message}`);
          throw err;
        }
        if (fields.jd === null) throw new BadFileError(`alert ${fields.candid} has no candidate.jd, so no night`);
        alerts.push({ night: nightOfJd(fields.jd), schemaId: writer.id, schemaJson: writer.json, datum, added: null, fields });
      }
      if (pos !== block.data.length) throw new BadFileError(`corrupt (a block holds ${block.data.length - pos} bytes after its last alert)`);
    }
  } catch (err) {
    if (err instanceof ContainerError) throw new BadFileError(err.message);
    if (err instanceof BadFileError) throw err;
    // avsc throws plain errors on bytes that do not match the schema.
    throw new BadFileError(`an alert does not decode with the file's schema (${(err as Error).message})`);
  }
  return alerts;
}
