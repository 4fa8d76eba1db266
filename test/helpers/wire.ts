// Real alerts as the distribution puts them on a topic (key: the writer schema as compact JSON;
// value: the datum), and the schema files beside DISTRIBUTION_SCHEMA that the consumer looks up.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseAvroType, schemaFingerprint, type RecordSchema } from '../../src/avro/schema.ts';
import { schemaFileFor } from '../../src/avro/schema-file-name.ts';
import { expandPaths } from '../../src/sciencedb/ingest.ts';
import { decodeAlertFile, SchemaCache } from '../../src/sciencedb/decode.ts';
import { FINK_DATA, ZTF_DATA } from './data.ts';

export interface WireMessage {
  key: Buffer;
  value: Buffer;
}

/** The real alerts of ../shared/data as messages (one per alert). */
export function realMessages(): WireMessage[] {
  const cache = new SchemaCache();
  return expandPaths([ZTF_DATA, FINK_DATA]).files.flatMap((file) =>
    decodeAlertFile(readFileSync(file), cache).map((a) => ({ key: Buffer.from(a.schemaJson), value: Buffer.from(a.datum) })),
  );
}

/** Writes the schema file of each schema (as the distribution does) beside `base`. */
export function writeSchemaFiles(base: string, schemas: readonly RecordSchema[]): void {
  mkdirSync(dirname(base), { recursive: true });
  for (const schema of schemas) writeFileSync(schemaFileFor(base, schemaFingerprint(parseAvroType(schema))), JSON.stringify(schema, null, 2));
}

/** The distinct schemas of some messages. */
export function schemasOf(messages: readonly WireMessage[]): RecordSchema[] {
  return [...new Set(messages.map((m) => m.key.toString()))].map((text) => JSON.parse(text) as RecordSchema);
}

