// The managed brokers enforce a topic's size limit within seconds (src/cluster/server-properties.ts): with
// Kafka's own 5-minute check, a topic written at Rubin's rates passes its retention.bytes by tens
// of GB before anything is deleted.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Consumer, ListOffsetTimestamps, ProduceAcks, Producer } from '@platformatic/kafka';
import { loadConfig, type Config } from '../../src/config/config.ts';
import { kafkaClientOptions } from '../../src/kafka/client-options.ts';
import { ensureTopic, topicLogBytes } from '../../src/kafka/topics.ts';
import { testEnv } from '../helpers/cli.ts';
import { withTestCluster, type TestCluster } from '../helpers/kafka.ts';

const TOPIC = 'capped';
const MIB = 1024 * 1024;
/** Well under Kafka's default interval between checks, 5 minutes, and many times the managed cluster's 10 s. */
const DEADLINE_MS = 150_000;

describe('the managed cluster and retention.bytes', { timeout: 600_000 }, () => {
  let cluster: TestCluster;
  let config: Config;
  withTestCluster((started) => {
    cluster = started;
    config = loadConfig({ env: testEnv(cluster.env) });
  });

  it('drops the oldest segments of a topic past its retention.bytes within seconds, check after check', async () => {
    const connection = kafkaClientOptions(config, 'admin');
    await ensureTopic(connection, TOPIC, { partitions: 1, replicationFactor: 1, configs: { 'retention.bytes': String(MIB), 'segment.bytes': String(MIB) } });
    const producer = new Producer({ clientId: 'retention-test', ...kafkaClientOptions(config), acks: ProduceAcks.ALL, compression: 'none' });
    const consumer = new Consumer({ clientId: 'retention-test', groupId: 'retention-test', ...kafkaClientOptions(config) });
    const offset = async (timestamp: bigint) => (await consumer.listOffsets({ topics: [TOPIC], timestamp })).get(TOPIC)?.[0] ?? 0n;
    // 8 MiB in 100 KiB messages: eight segments for a topic that keeps one.
    const fill = async () => {
      for (let i = 0; i < 82; i++) await producer.send({ messages: [{ topic: TOPIC, partition: 0, value: Buffer.alloc(100 * 1024, i) }] });
    };
    /** Waits until the topic starts after `offset` and holds its retention plus the active segment. */
    const dropped = async (after: bigint, what: string) => {
      const started = Date.now();
      for (;;) {
        const earliest = await offset(ListOffsetTimestamps.EARLIEST);
        const held = await topicLogBytes(connection, TOPIC);
        if (earliest > after && held <= 3 * MIB) return;
        assert.ok(Date.now() - started < DEADLINE_MS, `${DEADLINE_MS / 1000} s after ${what}, the topic still holds ${held} bytes from offset ${earliest}: retention is not enforced within seconds`);
        await sleep(500);
      }
    };
    try {
      // The first check after a broker starts comes early whatever the interval: the second one
      // is what the interval decides.
      await fill();
      await dropped(0n, 'the first 8 MiB');
      const end = await offset(ListOffsetTimestamps.LATEST);
      await fill();
      await dropped(end, 'the next 8 MiB');
    } finally {
      await producer.close();
      await consumer.close();
    }
  });
});
