import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Producer, type CompressionAlgorithmValue } from '@platformatic/kafka';
import { loadConfig, type Config } from '../../src/config/config.ts';
import { kafkaClientOptions } from '../../src/kafka/client-options.ts';
import { fetchPartitions, newPartitionReader, readTopic, type ConsumedMessage } from '../../src/kafka/topic-reader.ts';
import { describeTopic, ensureTopic } from '../../src/kafka/topics.ts';
import type { Level, LogFields } from '../../src/log.ts';
import { testEnv } from '../helpers/cli.ts';
import { withTestCluster, type TestCluster } from '../helpers/kafka.ts';
import { waitFor } from '../helpers/wait.ts';

const TOPIC = 'bombs';
const MAX_MESSAGE_BYTES = 1 << 20;
/** 64 MiB of zeros, 16 times what a batch of the topic may inflate to (4 x max.message.bytes). */
const BOMB = Buffer.alloc(64 << 20);
/** 70,000 empty records: a few KB compressed, 490 KB inflated, but more records than 4 MiB allows at 64 bytes each. */
const EMPTIES = 70_000;
const BOMBS: { name: string; values: Buffer[]; compression: CompressionAlgorithmValue }[] = [
  { name: 'zstd', values: [BOMB], compression: 'zstd' },
  { name: 'gzip', values: [BOMB], compression: 'gzip' },
  { name: 'lz4', values: [BOMB], compression: 'lz4' },
  { name: 'records', values: Array.from({ length: EMPTIES }, () => Buffer.alloc(0)), compression: 'zstd' },
];

interface Line {
  level: Level;
  message: string;
  fields: LogFields;
}

function capture(): { lines: Line[]; log: (level: Level, message: string, fields?: LogFields) => void } {
  const lines: Line[] = [];
  return { lines, log: (level, message, fields = {}) => lines.push({ level, message, fields }) };
}

/** The values read, large ones by their size, a run of equal ones once with its count (a failure's diff stays short). */
function values(messages: readonly ConsumedMessage[]): string[] {
  const out: string[] = [];
  let run = 0;
  for (const [i, m] of messages.entries()) {
    const shown = m.value === null ? 'null' : m.value.length > 100 ? `${m.value.length} bytes` : m.value.toString();
    run++;
    const next = messages[i + 1]?.value;
    if (next !== undefined && next !== null && m.value !== null && next.equals(m.value)) continue;
    out.push(run === 1 ? shown : `${shown} x${run}`);
    run = 0;
  }
  return out;
}

/** The refusal lines, as "topic/partition/offset". */
function refusals(lines: readonly Line[]): string[] {
  return lines.filter((l) => l.message.startsWith('record batch refused')).map((l) => `${String(l.fields.topic)}/${String(l.fields.partition)}/${String(l.fields.offset)}`);
}

// Each bomb is a record batch of a few KB (a 64 MiB value of zeros, or 70,000 empty records,
// compressed by the producer), which the broker accepts under max.message.bytes; a good message
// follows each one.
describe('a record batch that inflates past its limit', { timeout: 300_000 }, () => {
  let cluster: TestCluster;
  let config: Config;
  const bombOffsets: string[] = [];
  const good = ['good-0', ...BOMBS.map((b) => `good-${b.name}`)];
  withTestCluster(async (started) => {
    cluster = started;
    config = loadConfig({ env: testEnv(cluster.env) });
    await ensureTopic(kafkaClientOptions(config, 'admin'), TOPIC, { partitions: 1, replicationFactor: 1, configs: { 'max.message.bytes': String(MAX_MESSAGE_BYTES) } });
    const producer = new Producer({ clientId: 'bomber', ...kafkaClientOptions(config), retries: 10, retryDelay: 500 });
    try {
      await producer.send({ messages: [{ topic: TOPIC, partition: 0, value: Buffer.from(good[0]!) }] });
      for (const bomb of BOMBS) {
        const sent = await producer.send({ messages: bomb.values.map((value) => ({ topic: TOPIC, partition: 0, value })), compression: bomb.compression });
        bombOffsets.push(`${TOPIC}/0/${sent.offsets?.[0]?.offset}`);
        await producer.send({ messages: [{ topic: TOPIC, partition: 0, value: Buffer.from(`good-${bomb.name}`) }] });
      }
    } finally {
      await producer.close();
    }
  });

  it('is refused by the topic reader (distribution_test), naming topic/partition/offset, and the messages after it are read', async () => {
    const { lines, log } = capture();
    const read: ConsumedMessage[] = [];
    for await (const m of readTopic(kafkaClientOptions(config), TOPIC, { log })) read.push(m);
    assert.deepEqual(values(read), good);
    assert.deepEqual(refusals(lines), bombOffsets);
  });

  it("is refused by fetchPartitions (stream2science's reads), which moves past it", async () => {
    const { lines, log } = capture();
    const connection = kafkaClientOptions(config);
    const topic = (await describeTopic(connection, TOPIC))!;
    const consumer = newPartitionReader(connection);
    try {
      const read: ConsumedMessage[] = [];
      let offset = 0n;
      await waitFor('every message fetched', async () => {
        const [part] = await fetchPartitions(consumer, topic.partitions[0]!.leader, [{ topic: TOPIC, topicId: topic.id, partition: 0, offset }], { maxWaitTime: 100, partitionMaxBytes: 1 << 20, log });
        assert.equal(part!.error, 'NONE');
        read.push(...part!.messages);
        offset = part!.next;
        return read.length >= good.length || undefined;
      });
      assert.deepEqual(values(read), good);
      assert.deepEqual(refusals(lines), bombOffsets);
    } finally {
      await consumer.close();
    }
  });

  it("is refused by the console's live view, which shows the messages after it", async () => {
    const { lines, log } = capture();
    const read: ConsumedMessage[] = [];
    const stop = new AbortController();
    // The console's reader options; its tail reaches back over the empty records' offsets to the first message.
    const following = (async () => {
      for await (const m of readTopic(kafkaClientOptions(config), TOPIC, { follow: true, tail: 2 * EMPTIES, partitionMaxBytes: 1 << 20, signal: stop.signal, log })) read.push(m);
    })();
    try {
      await waitFor('the last good message', () => read.some((m) => m.value?.toString() === good.at(-1)) || undefined);
    } finally {
      stop.abort();
      await following;
    }
    assert.deepEqual(values(read), good);
    assert.deepEqual(refusals(lines), bombOffsets);
  });
});
