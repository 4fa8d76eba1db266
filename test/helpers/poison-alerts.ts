// Alerts that no survey writes, made with the project's own Avro code: times no alert can have, and
// the schemas of the building bombs (test/helpers/building-bombs.ts) as alert schemas. Shared by
// the ingest and stream2science decoder tests and the fuzzer.
import { parseAvroType, type AvroSchema, type RecordSchema } from '../../src/avro/schema.ts';
import { nestedRecords } from './building-bombs.ts';
import { alertSchema, varint } from './hostile.ts';

/** A Rubin alert schema cut to what ingest reads: identity, object, time. */
export const LSST_MINI_SCHEMA: RecordSchema = {
  type: 'record', name: 'alert', namespace: 'lsst.v9_0', fields: [
    { name: 'diaSourceId', type: 'long' },
    { name: 'diaSource', type: { type: 'record', name: 'diaSource', fields: [
      { name: 'diaSourceId', type: 'long' }, { name: 'diaObjectId', type: ['null', 'long'] }, { name: 'midpointMjdTai', type: 'double' },
    ] } },
  ],
};

export function ztfDatum(candid: bigint, jd: number, extra: Record<string, unknown> = {}, schema: AvroSchema = alertSchema()): Buffer {
  return parseAvroType(schema).toBuffer({ objectId: 'ZTF24poison', candid, candidate: { jd }, ...extra });
}

export function lsstDatum(diaSourceId: bigint, midpointMjdTai: number): Buffer {
  return parseAvroType(LSST_MINI_SCHEMA).toBuffer({ diaSourceId, diaSource: { diaSourceId, diaObjectId: 7n, midpointMjdTai } });
}

/** An alert schema with an array of records of `fields` nulls: items that take no bytes. */
export function nullRecordsSchema(fields = 50): RecordSchema {
  const nulls = { type: 'record', name: 'nulls', fields: Array.from({ length: fields }, (_, i) => ({ name: `f${i}`, type: 'null' })) };
  return alertSchema([{ name: 'xs', type: { type: 'array', items: nulls } }]);
}

/** A datum of nullRecordsSchema with `count` items: a few bytes. */
export function nullRecordsDatum(candid: bigint, count: number): Buffer {
  return Buffer.concat([ztfDatum(candid, 2460000.5), varint(BigInt(count)), varint(0n)]);
}

/** An alert schema with named records nested `levels` deep, `fanOut` fields each: 10^8 values from no bytes at 8 and 10. */
export function nestedRecordsSchema(levels = 8, fanOut = 10): RecordSchema {
  return alertSchema([{ name: 'n', type: nestedRecords(levels, fanOut) }]);
}

/** A datum of nestedRecordsSchema: the alert's head, the nested records taking no bytes. */
export function nestedRecordsDatum(candid: bigint): Buffer {
  return ztfDatum(candid, 2460000.5);
}
