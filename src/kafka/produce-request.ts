// The Produce request with this project's record batches (record-batch.ts) in place of the
// client's: the same request, versions 9 to 11 (the flexible ones, which every broker of the range
// the client supports offers), each partition's batch appended by reference. The client still
// does everything else: leaders, retries, sequences, the response. One difference: a partition's
// batch under SMALL_BATCH_BYTES goes uncompressed (record-batch.ts), where the client would
// compress it. Gzip, which the client compresses off the main thread, and older versions keep the
// client's own request (every batch compressed). The client's join of the request goes into a
// buffer used again once the broker has answered (produce-join.ts).
// Workaround of @platformatic/kafka 2.12.1 (docs/architecture.md, Library workarounds): it can go
// once the client writes a batch without joining its records more than once.
import { createAPI, produceV9, produceV10, produceV11, ProduceAcks, Writer } from '@platformatic/kafka';
import type { ApiCall } from './api-override.ts';
import type { Compression } from '../config/keys.ts';
import { expectJoin, installPooledJoin, releaseJoin, type JoinClaim } from './produce-join.ts';
import { BatchArena, encodeRecordBatch, SMALL_BATCH_BYTES, type BatchMessage } from './record-batch.ts';

/** A message as the producer hands it to Produce. */
interface ProducedMessage extends BatchMessage {
  topic: string;
  partition: number;
}

/** What the producer passes along with the messages. */
interface ProduceOptions {
  compression?: Compression;
  producerId?: bigint;
  producerEpoch?: number;
  /** `topic:partition` -> the first sequence of this request's batch for that partition. */
  sequences?: { getWithDefault(key: string, fallback: number): number };
  transactionalId?: string;
  /** Batches whose records are smaller go uncompressed (record-batch.ts): SMALL_BATCH_BYTES unless a test asks otherwise. */
  uncompressedBelow?: number;
  /** Where the client's join of this request is recorded (produce-join.ts); none: joined as the client does. */
  join?: JoinClaim;
}

const PARSERS: Record<number, (typeof produceV11)['parseResponse']> = { 9: produceV9.parseResponse, 10: produceV10.parseResponse, 11: produceV11.parseResponse };

/** Messages grouped by a key, groups in the order of their first message, messages in order. */
function groupBy<T, K>(items: readonly T[], keyOf: (item: T) => K): [K, T[]][] {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    let group = groups.get(key);
    if (group === undefined) groups.set(key, (group = []));
    group.push(item);
  }
  return [...groups];
}

/** The batches of the request being built; the client has copied the previous request by the time the next is built. */
const arena = new BatchArena();

export function createProduceRequest(acks: number, timeout: number, messages: readonly ProducedMessage[], options: ProduceOptions = {}): Writer {
  arena.reset();
  /** The request's first record batch header: a buffer no other request holds, by which its join is known. */
  let marker: Buffer | undefined;
  const writer = Writer.create().appendString(options.transactionalId ?? null).appendInt16(acks).appendInt32(timeout);
  writer.appendArray(groupBy(messages, (m) => m.topic), (w, [topic, ofTopic]) => {
    w.appendString(topic).appendArray(groupBy(ofTopic, (m) => m.partition), (w, [partition, ofPartition]) => {
      const batch = encodeRecordBatch(ofPartition, {
        compression: options.compression,
        producerId: options.producerId,
        producerEpoch: options.producerEpoch,
        firstSequence: options.sequences?.getWithDefault(`${topic}:${partition}`, 0) ?? 0,
        transactional: options.transactionalId !== undefined,
        uncompressedBelow: options.uncompressedBelow ?? SMALL_BATCH_BYTES,
      }, arena);
      marker ??= batch.header;
      w.appendInt32(partition).appendUnsignedVarInt(batch.length + 1).append(batch.header).append(batch.records);
    });
  });
  writer.appendTaggedFields();
  if (acks === ProduceAcks.NO_RESPONSE) writer.context.noResponse = true;
  else if (options.join !== undefined && marker !== undefined) expectJoin(marker, options.join, writer.length);
  return writer;
}

/** The Produce calls handed out below, so that a test can tell them from the client's own. */
const handedOut = new WeakSet<ApiCall>();

export function isRecordBatchProduce(api: ApiCall): boolean {
  return handedOut.has(api);
}

/** The Produce call to use in place of the client's `api`: this project's request where it applies. */
export function produceWithRecordBatches(api: ApiCall): ApiCall {
  const parse = PARSERS[api.version];
  if (parse === undefined) return api;
  const ours = createAPI(0, api.version, createProduceRequest as never, parse) as unknown as ApiCall;
  installPooledJoin();
  const call = ((connection: unknown, ...args: unknown[]) => {
    // The producer calls Produce with (acks, timeout, messages, options, callback).
    const [acks, timeout, messages, options, callback] = args as [number, number, unknown, ProduceOptions | undefined, unknown];
    if (options?.compression === 'gzip') return api(connection, ...args);
    if (typeof callback !== 'function' || args.length !== 5) return ours(connection, ...args);
    // The request's buffer is used again only after the broker's answer, which comes once the
    // broker has read all of it; a failure keeps it out of the pool (produce-join.ts).
    const join: JoinClaim = {};
    return ours(connection, acks, timeout, messages, { ...options, join }, (error: unknown, response: unknown) => {
      if (error == null) releaseJoin(join);
      (callback as (error: unknown, response: unknown) => void)(error, response);
    });
  }) as ApiCall;
  call.version = api.version;
  handedOut.add(call);
  return call;
}
