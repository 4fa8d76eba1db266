// The Confluent wire format, as Rubin publishes its alerts: a zero byte, the writer schema's id in
// the schema registry (4 bytes, big-endian), then the schemaless Avro datum. The datum is handed
// out as a view of the message, not a copy: the caller keeps the bytes exactly as they arrived.
import { FinkError } from '../errors.ts';

const MAGIC = 0;
export const CONFLUENT_HEADER_BYTES = 5;

export class WireFormatError extends FinkError {
  constructor(message: string) {
    super(message, { code: 'FINK_WIRE_FORMAT' });
    this.name = 'WireFormatError';
  }
}

export interface ConfluentMessage {
  schemaId: number;
  datum: Buffer;
}

export function decodeConfluent(message: Uint8Array): ConfluentMessage {
  if (message.length < CONFLUENT_HEADER_BYTES) throw new WireFormatError(`a Confluent wire-format message has at least ${CONFLUENT_HEADER_BYTES} bytes; this one has ${message.length}`);
  if (message[0] !== MAGIC) throw new WireFormatError(`a Confluent wire-format message starts with byte 0; this one starts with ${message[0]}`);
  const buf = Buffer.from(message.buffer, message.byteOffset, message.length);
  return { schemaId: buf.readUInt32BE(1), datum: buf.subarray(CONFLUENT_HEADER_BYTES) };
}

export function encodeConfluent(schemaId: number, datum: Uint8Array): Buffer {
  if (!Number.isInteger(schemaId) || schemaId < 0 || schemaId > 0xffffffff) throw new WireFormatError(`a schema id is an unsigned 32-bit integer, not ${schemaId}`);
  const out = Buffer.allocUnsafe(CONFLUENT_HEADER_BYTES + datum.length);
  out[0] = MAGIC;
  out.writeUInt32BE(schemaId, 1);
  out.set(datum, CONFLUENT_HEADER_BYTES);
  return out;
}
