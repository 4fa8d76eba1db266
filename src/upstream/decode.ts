// One upstream message turned into the alerts it carries, by the format of its topic: ZTF's
// messages are each a whole Avro container file (the schema in its header); Rubin's are in the
// Confluent wire format (a schema id, then a schemaless datum), the schema asked of the registry.
// A message that does not decode gives the reason instead, for the dead-letter file.
import { decodeConfluent, WireFormatError } from '../avro/confluent-wire.ts';
import { BadFileError, decodeAlertFile, decodeDatum, type SchemaCache } from '../sciencedb/decode.ts';
import type { NewAlert } from '../sciencedb/store.ts';
import { RefusedSchemaError, UnknownSchemaError, type RegistrySchemaCache } from './schema-cache.ts';
import type { UpstreamFormat } from './settings.ts';

export type DecodedMessage = { alerts: NewAlert[] } | { reason: string };

export interface Decoders {
  /** Parsed writer schemas by their text (container headers, registry texts). */
  schemas: SchemaCache;
  registry: RegistrySchemaCache;
}

function decodeZtf(value: Buffer, decoders: Decoders): DecodedMessage {
  const alerts = decodeAlertFile(value, decoders.schemas);
  if (alerts.length === 0) return { reason: 'an Avro container file without any alert' };
  return { alerts };
}

async function decodeLsst(value: Buffer, decoders: Decoders): Promise<DecodedMessage> {
  const { schemaId, datum } = decodeConfluent(value);
  const text = await decoders.registry.text(schemaId);
  let schema: unknown;
  try {
    schema = JSON.parse(text);
  } catch {
    return { reason: `schema id ${schemaId}: the registry's text is not JSON` };
  }
  const writer = decoders.schemas.get(text, schema);
  const { alert, end } = decodeDatum(writer, datum);
  if (end !== datum.length) return { reason: `schema id ${schemaId}: ${datum.length - end} bytes after the alert` };
  return { alerts: [alert] };
}

export async function decodeMessage(format: UpstreamFormat, value: Buffer | null, decoders: Decoders): Promise<DecodedMessage> {
  if (value === null || value.length === 0) return { reason: 'an empty message' };
  try {
    return format === 'ztf' ? decodeZtf(value, decoders) : await decodeLsst(value, decoders);
  } catch (err) {
    if (err instanceof BadFileError || err instanceof WireFormatError || err instanceof UnknownSchemaError || err instanceof RefusedSchemaError) return { reason: `${format} format: ${err.message}` };
    throw err;
  }
}
