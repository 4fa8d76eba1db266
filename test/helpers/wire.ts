// Real alerts as the distribution puts them on a topic (key: the writer schema as compact JSON;
// value: the datum), and the schema files beside DISTRIBUTION_SCHEMA that the consumer looks up.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Producer } from '@platformatic/kafka';
import { readContainer } from '../../src/avro/container.ts';
import type { Config } from '../../src/config/config.ts';
import { kafkaClientOptions } from '../../src/kafka/client-options.ts';
import { ensureTopic } from '../../src/kafka/topics.ts';
import { compactSchemaJson, extendRecord, parseAvroType, sanitizeSchema, schemaFingerprint, type RecordSchema } from '../../src/avro/schema.ts';
import { schemaFileFor } from '../../src/avro/schema-file-name.ts';
import { expandPaths } from '../../src/sciencedb/ingest.ts';
import { decodeAlertFile, SchemaCache } from '../../src/sciencedb/decode.ts';
import { FINK_DATA, LSST_DATA, LSST_VERSIONS, ZTF_DATA } from './data.ts';

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


/** A Rubin alert as a message, with what a test compares: its ids and cutouts as decoded. */
export interface LsstMessage extends WireMessage {
  diaSourceId: bigint;
  diaObjectId: bigint | null;
  cutouts: (Buffer | null)[];
}

const CUTOUTS = ['cutoutDifference', 'cutoutScience', 'cutoutTemplate'] as const;

/**
 * The Rubin sample alert of each version in ../shared/data/lsst as a message, and beside each one a
 * variant re-encoded with its own schema: the samples have small ids, no diaObjectId and no cutouts,
 * so the variant carries ids past 2^53 and cutout bytes of every value. `extended` adds a variant
 * whose schema is the v10_0 record extended by trailing fields, as Fink's added values extend it.
 */
export function lsstMessages(): LsstMessage[] {
  const out: LsstMessage[] = [];
  LSST_VERSIONS.forEach((version, v) => {
    const container = readContainer(readFileSync(join(LSST_DATA, `fakeAlert-${version}.avro`)));
    const schema = sanitizeSchema(container.schema as RecordSchema);
    const type = parseAvroType(schema);
    const key = Buffer.from(compactSchemaJson(schema));
    for (const block of container.blocks()) {
      const datum = Buffer.from(block.data);
      const alert = type.fromBuffer(datum) as Record<string, unknown> & { diaSourceId: bigint; diaSource: { diaObjectId: bigint | null } };
      out.push({ key, value: datum, diaSourceId: alert.diaSourceId, diaObjectId: alert.diaSource.diaObjectId, cutouts: CUTOUTS.map((c) => (alert[c] as Buffer | null) ?? null) });
      const big = { ...alert, diaSourceId: 2n ** 62n + BigInt(v), diaSource: { ...alert.diaSource, diaObjectId: 2n ** 60n + 7n * BigInt(v) } };
      const cutouts = CUTOUTS.map((_, i) => Buffer.from(Array.from({ length: 256 * (i + 1) }, (_x, j) => (j * 31 + v + i) & 0xff)));
      CUTOUTS.forEach((c, i) => { (big as Record<string, unknown>)[c] = cutouts[i]; });
      out.push({ key, value: type.toBuffer(big), diaSourceId: big.diaSourceId, diaObjectId: big.diaSource.diaObjectId, cutouts });
      if (version === 'v10_0') {
        const extended = extendRecord(schema, [{ name: 'finkclass', type: ['null', 'string'], default: null }, { name: 'rf_kn_vs_nonkn', type: ['null', 'double'], default: null }]);
        const extendedType = parseAvroType(extended);
        const added = { ...big, diaSourceId: big.diaSourceId + 100n, finkclass: 'SN candidate', rf_kn_vs_nonkn: 0.25 };
        out.push({ key: Buffer.from(compactSchemaJson(extended)), value: extendedType.toBuffer(added), diaSourceId: added.diaSourceId, diaObjectId: big.diaSource.diaObjectId, cutouts });
      }
    }
  });
  return out;
}

/**
 * Creates `topic` (one partition unless told) and sends the messages to partition 0 in their order,
 * with a plain producer: whoever may write to a topic can send these.
 */
export async function produceMessages(config: Config, topic: string, messages: readonly WireMessage[], partitions = 1): Promise<void> {
  await ensureTopic(kafkaClientOptions(config, 'admin'), topic, { partitions, replicationFactor: 1 });
  const producer = new Producer({ clientId: 'fink-test-producer', ...kafkaClientOptions(config), retries: 20, retryDelay: 500 });
  try {
    await producer.send({ messages: messages.map((m) => ({ topic, partition: 0, key: m.key, value: m.value })) });
  } finally {
    await producer.close();
  }
}

/** lsstMessages() with one message per diaSourceId (the samples of every version share one id). */
export function lsstMessagesOnePerId(): LsstMessage[] {
  const seen = new Set<bigint>();
  return lsstMessages().filter((m) => !seen.has(m.diaSourceId) && seen.add(m.diaSourceId) !== undefined);
}
