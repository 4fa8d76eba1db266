// One upstream message turned into the alerts it carries, by the format of its topic: ZTF's
// messages are each a whole Avro container file (the schema in its header); Rubin's are in the
// Confluent wire format (a schema id, then a schemaless datum), the schema asked of the registry.
// A message that does not decode gives the reason instead, for the dead-letter file: every error
// that concerns the message alone (its bytes, its values, its schema), told by the error's class
// (its code), never by its text; anything else (the disk, the registry's URL) stops the service.
import { decodeConfluent } from '../avro/confluent-wire.ts';
import { FinkError } from '../errors.ts';
import { decodeAlertFile, decodeDatum, type SchemaCache } from '../sciencedb/decode.ts';
import type { NewAlert } from '../sciencedb/store.ts';
import { RefusedSchemaError, type RegistrySchemaCache } from './schema-cache.ts';
import type { UpstreamFormat } from './settings.ts';

export type DecodedMessage = { alerts: NewAlert[] } | { reason: string; code: string };

/** The codes of the errors that one message causes (src/errors.ts). */
const PER_MESSAGE: ReadonlySet<string> = new Set(['FINK_DATUM', 'FINK_CONTAINER', 'FINK_WIRE_FORMAT', 'FINK_ALERT', 'FINK_BAD_FILE', 'FINK_UNKNOWN_SCHEMA', 'FINK_DECODE']);

export function perMessage(err: unknown): err is FinkError {
  return err instanceof RefusedSchemaError || (err instanceof FinkError && PER_MESSAGE.has(err.code));
}

export interface Decoders {
  /** Parsed writer schemas by their text (container headers, registry texts). */
  schemas: SchemaCache;
  registry: RegistrySchemaCache;
}

function decodeZtf(value: Buffer, decoders: Decoders): DecodedMessage {
  const alerts = decodeAlertFile(value, decoders.schemas);
  if (alerts.length === 0) return { reason: 'an Avro container file without any alert', code: 'FINK_BAD_FILE' };
  return { alerts };
}

async function decodeLsst(value: Buffer, decoders: Decoders): Promise<DecodedMessage> {
  const { schemaId, datum } = decodeConfluent(value);
  // The registry cache hands out only texts that passed its check (JSON, a record that compiles).
  const writer = decoders.schemas.get(await decoders.registry.text(schemaId));
  const { alert, end } = decodeDatum(writer, datum);
  if (end !== datum.length) return { reason: `schema id ${schemaId}: ${datum.length - end} bytes after the alert`, code: 'FINK_DATUM' };
  return { alerts: [alert] };
}

export async function decodeMessage(format: UpstreamFormat, value: Buffer | null, decoders: Decoders): Promise<DecodedMessage> {
  if (value === null || value.length === 0) return { reason: 'an empty message', code: 'FINK_WIRE_FORMAT' };
  try {
    return format === 'ztf' ? decodeZtf(value, decoders) : await decodeLsst(value, decoders);
  } catch (err) {
    if (perMessage(err)) return { reason: `${format} format: ${err.message}`, code: err.code };
    throw err;
  }
}
