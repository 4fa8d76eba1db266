// Decoded Avro values as plain data, so that values decoded by different readers (whose record
// classes differ) compare with deepStrictEqual field by field. Buffers, bigints and NaN stay as they are.
export function plain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plain);
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value) || value instanceof Uint8Array) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
}
