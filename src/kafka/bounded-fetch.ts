// Fetch responses read with every compressed record batch inflated to a bounded size.
// Workaround of @platformatic/kafka 2.12.1 (docs/architecture.md, Library workarounds): its Fetch
// response parser inflates each batch with no limit (protocol/records.js readRecordsBatch), so a
// batch of a few KB that inflates to a GiB stops any reader of its topic, at every restart. This
// parser reads the same response (Fetch v13 to v17, the versions that name topics by id) as the
// library's does, into the same shape, except that a batch inflating past its topic's limit
// (bounded-inflate.ts), or declaring more records than the limit allows at RECORD_COST bytes
// each, is kept with no records and listed under kRefused: its offsets still move
// the reader past it. It can go once the client bounds what a batch inflates to (or lets its caller
// refuse a batch): test/kafka/library-workarounds.test.ts then fails and says so.
import { IS_COMPRESSED, Reader, ResponseError, readKnownTaggedFields, readRecord, type KafkaRecord, type RecordsBatch } from '@platformatic/kafka';
import { InflateLimitError, inflateBounded, RECORD_COST } from './bounded-inflate.ts';

/** A batch refused for what it inflates to. */
export interface RefusedBatch {
  /** The batch's base offset. */
  firstOffset: bigint;
  lastOffset: bigint;
  codec: number;
  /** What it would inflate to, when known (else: more than the limit); with its records counted at RECORD_COST when they exceed it. */
  size: number | undefined;
  /** The record count it declares. */
  records: number;
  limit: number;
}

export const kRefused = Symbol('batches refused for what they inflate to');

/** The first and last Fetch versions this parser reads. */
export const BOUNDED_FETCH_VERSIONS = [13, 17] as const;

// Offset (8) and length (4): what precedes a batch's own bytes.
const BATCH_HEAD = 12;

function readBatch(reader: Reader, limit: number, refused: RefusedBatch[]): RecordsBatch {
  const start = reader.position;
  const batch: RecordsBatch = {
    firstOffset: reader.readInt64(),
    length: reader.readInt32(),
    partitionLeaderEpoch: reader.readInt32(),
    magic: reader.readInt8(),
    crc: reader.readUnsignedInt32(),
    attributes: reader.readInt16(),
    lastOffsetDelta: reader.readInt32(),
    firstTimestamp: reader.readInt64(),
    maxTimestamp: reader.readInt64(),
    producerId: reader.readInt64(),
    producerEpoch: reader.readInt16(),
    firstSequence: reader.readInt32(),
    records: [],
  };
  const count = reader.readInt32();
  const codec = batch.attributes & IS_COMPRESSED;
  let records = reader;
  if (codec !== 0) {
    const compressedLength = batch.length - (reader.position - start - BATCH_HEAD);
    const compressed = reader.buffer.slice(reader.position, reader.position + compressedLength);
    reader.skip(compressedLength);
    const refuse = (size: number | undefined): RecordsBatch => {
      refused.push({ firstOffset: batch.firstOffset, lastOffset: batch.firstOffset + BigInt(batch.lastOffsetDelta), codec, size, records: count, limit });
      return batch;
    };
    if (count > limit / RECORD_COST) return refuse(count * RECORD_COST);
    try {
      records = Reader.from(inflateBounded(codec, compressed, limit));
    } catch (err) {
      if (!(err instanceof InflateLimitError)) throw err;
      return refuse(err.size);
    }
  }
  const list: KafkaRecord[] = batch.records;
  for (let i = 0; i < count; i++) list.push(readRecord(records));
  return batch;
}

/** The complete batches of a partition's records (a fetch may end in a partial one, which is left). */
function readBatches(reader: Reader, limit: number, refused: RefusedBatch[]): RecordsBatch[] {
  const batches: RecordsBatch[] = [];
  while (reader.remaining >= BATCH_HEAD && reader.remaining - BATCH_HEAD >= reader.peekInt32(reader.position + 8)) batches.push(readBatch(reader, limit, refused));
  return batches;
}

type FetchPartitionRead = Record<string, unknown> & { records: RecordsBatch[] | null; errorCode: number; [kRefused]?: RefusedBatch[] };

function readPartition(r: Reader, limit: number, errors: [string, [number, null]][], path: string): FetchPartitionRead {
  const partition: FetchPartitionRead = {
    partitionIndex: r.readInt32(),
    errorCode: r.readInt16(),
    highWatermark: r.readInt64(),
    lastStableOffset: r.readInt64(),
    logStartOffset: r.readInt64(),
    divergingEpoch: { epoch: -1, endOffset: -1n },
    currentLeader: { leaderId: -1, leaderEpoch: -1 },
    snapshotId: { endOffset: -1n, epoch: -1 },
    abortedTransactions: r.readNullableArray((r) => ({ producerId: r.readInt64(), firstOffset: r.readInt64() })),
    preferredReadReplica: r.readInt32(),
    records: [],
  };
  if (partition.errorCode !== 0) errors.push([path, [partition.errorCode, null]]);
  // COMPACT_RECORDS: the length plus one, 0 for null.
  let size = r.readUnsignedVarInt();
  if (size === 0) partition.records = null;
  if (size > 1) {
    size--;
    const refused: RefusedBatch[] = [];
    partition.records = readBatches(Reader.from(r.buffer.subarray(r.position, r.position + size)), limit, refused);
    if (refused.length > 0) partition[kRefused] = refused;
    r.skip(size);
  }
  readKnownTaggedFields(r, {
    0: (r) => (partition.divergingEpoch = { epoch: r.readInt32(), endOffset: r.readInt64() }),
    1: (r) => (partition.currentLeader = { leaderId: r.readInt32(), leaderEpoch: r.readInt32() }),
    2: (r) => (partition.snapshotId = { endOffset: r.readInt64(), epoch: r.readInt32() }),
  });
  return partition;
}

/**
 * A Fetch response parser (the library's signature) that inflates each batch of a topic to at
 * most `limitOf(topicId)` bytes. Partition errors throw as the library's parser throws them.
 */
export function boundedFetchParser(limitOf: (topicId: string) => number) {
  return (_correlationId: number, apiKey: number, apiVersion: number, reader: Reader): unknown => {
    const errors: [string, [number, null]][] = [];
    const throttleTimeMs = reader.readInt32();
    const errorCode = reader.readInt16();
    if (errorCode !== 0) errors.push(['', [errorCode, null]]);
    const response = {
      throttleTimeMs,
      errorCode,
      sessionId: reader.readInt32(),
      nodeEndpoints: [] as unknown[],
      responses: reader.readArray((r, i) => {
        const topicId = r.readUUID();
        const limit = limitOf(topicId);
        return { topicId, partitions: r.readArray((r, j) => readPartition(r, limit, errors, `/responses/${i}/partitions/${j}`), true, false) };
      }),
    };
    readKnownTaggedFields(reader, {
      0: (r) => (response.nodeEndpoints = r.readArray((r) => ({ nodeId: r.readInt32(), host: r.readString(), port: r.readInt32(), rack: r.readNullableString() }))),
    });
    if (errors.length > 0) throw new ResponseError(apiKey, apiVersion, Object.fromEntries(errors), response);
    return response;
  };
}
