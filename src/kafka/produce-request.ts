// The Produce request with this project's record batches (record-batch.ts) in place of the
// client's: the same request, versions 9 to 11 (the flexible ones, which every broker of the range
// the client supports offers), each partition's batch appended by reference. The client still
// does everything else: leaders, retries, sequences, the response. One difference: a partition's
// batch under SMALL_BATCH_BYTES goes uncompressed (record-batch.ts), where the client would
// compress it. Gzip, which the client compresses off the main thread, and older versions keep the
// client's own request (every batch compressed).
// Workaround of @platformatic/kafka 2.12.1 (docs/architecture.md, Library workarounds): it can go
// once the client writes a batch without joining its records more than once.
import { createAPI, produceV9, produceV10, produceV11, ProduceAcks, Writer } from '@platformatic/kafka';
import type { ApiCall } from './api-override.ts';
import type { Compression } from '../config/keys.ts';
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
      w.appendInt32(partition).appendUnsignedVarInt(batch.length + 1).append(batch.header).append(batch.records);
    });
  });
  writer.appendTaggedFields();
  if (acks === ProduceAcks.NO_RESPONSE) writer.context.noResponse = true;
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
  const call = ((connection: unknown, ...args: unknown[]) => {
    // The producer calls Produce with (acks, timeout, messages, options, callback).
    const options = args[3] as ProduceOptions | undefined;
    return (options?.compression === 'gzip' ? api : ours)(connection, ...args);
  }) as ApiCall;
  call.version = api.version;
  handedOut.add(call);
  return call;
}
