import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Producer, type CompressionAlgorithmValue } from '@platformatic/kafka';
import { loadConfig, type Config } from '../../src/config/config.ts';
import { kafkaClientOptions } from '../../src/kafka/client-options.ts';
import { fetchPartitions, newPartitionReader, readTopic, type ConsumedMessage } from '../../src/kafka/topic-reader.ts';
import { describeTopic, ensureTopic } from '../../src/kafka/topics.ts';
import type { Level, LogFields } from '../../src/log.ts';
import { testEnv } from '../helpers/cli.ts';
import { startTestCluster, type TestCluster } from '../helpers/kafka.ts';
import { waitFor } from '../helpers/wait.ts';

const TOPIC = 'bombs';
const MAX_MESSAGE_BYTES = 1 << 20;
/** 64 MiB of zeros, 16 times what a batch of the topic may inflate to (4 x max.message.bytes). */
const BOMB = Buffer.alloc(64 << 20);
const CODECS: CompressionAlgorithmValue[] = ['zstd', 'gzip', 'lz4'];

interface Line {
  level: Level;
  message: string;
  fields: LogFields;
}

function capture(): { lines: Line[]; log: (level: Level, message: string, fields?: LogFields) => void } {
  const lines: Line[] = [];
  return { lines, log: (level, message, fields = {}) => lines.push({ level, message, fields }) };
}

function values(messages: readonly ConsumedMessage[]): string[] {
  return messages.map((m) => (m.value === null ? 'null' : m.value.length > 100 ? `${m.value.length} bytes` : m.value.toString()));
}

/** The refusal lines, as "topic/partition/offset". */
function refusals(lines: readonly Line[]): string[] {
  return lines.filter((l) => l.message.startsWith('record batch refused')).map((l) => `${String(l.fields.topic)}/${String(l.fields.partition)}/${String(l.fields.offset)}`);
}

// Each bomb is a record batch of a few KB (a 64 MiB value of zeros, compressed by the producer),
// which the broker accepts under max.message.bytes; a good message follows each one.
describe('a record batch that inflates past its limit', { timeout: 300_000 }, () => {
  let cluster: TestCluster;
  let config: Config;
  const bombOffsets: string[] = [];
  const good = ['good-0', 'good-zstd', 'good-gzip', 'good-lz4'];
  before(async () => {
    cluster = await startTestCluster();
    config = loadConfig({ env: testEnv(cluster.env) });
    await ensureTopic(kafkaClientOptions(config, 'admin'), TOPIC, { partitions: 1, replicationFactor: 1, configs: { 'max.message.bytes': String(MAX_MESSAGE_BYTES) } });
    const producer = new Producer({ clientId: 'bomber', ...kafkaClientOptions(config), retries: 10, retryDelay: 500 });
    try {
      await producer.send({ messages: [{ topic: TOPIC, partition: 0, value: Buffer.from(good[0]!) }] });
      for (const [i, compression] of CODECS.entries()) {
        const sent = await producer.send({ messages: [{ topic: TOPIC, partition: 0, value: BOMB }], compression });
        bombOffsets.push(`${TOPIC}/0/${sent.offsets?.[0]?.offset}`);
        await producer.send({ messages: [{ topic: TOPIC, partition: 0, value: Buffer.from(good[i + 1]!) }] });
      }
    } finally {
      await producer.close();
    }
  });
  after(() => cluster?.stop());

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
    const following = (async () => {
      for await (const m of readTopic(kafkaClientOptions(config), TOPIC, { follow: true, tail: 20, partitionMaxBytes: 1 << 20, signal: stop.signal, log })) read.push(m);
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
