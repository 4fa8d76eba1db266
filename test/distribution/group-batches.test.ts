// How a group member cuts the science log into batches (src/distribution/group-batches.ts): a
// batch is gathered over as many fetch rounds as its size takes, not cut at what one round of the
// member's partitions brings, and the next batch goes on where it stopped. Against a real broker:
// a log of two partitions written in small transactions, so that one fetch round (1 MiB a
// partition) brings a fraction of what the batch may hold.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LogPartitions, type LogBatch } from '../../src/distribution/group-batches.ts';
import { kafkaClientOptions, type KafkaConnection } from '../../src/kafka/client-options.ts';
import { newPartitionReader } from '../../src/kafka/topic-reader.ts';
import { loadConfig } from '../../src/config/config.ts';
import { silentLogger } from '../../src/log.ts';
import { scienceTopic } from '../../src/sciencedb/log-format.ts';
import type { NewAlert } from '../../src/sciencedb/store.ts';
import { testEnv } from '../helpers/cli.ts';
import { withTestCluster, type TestCluster } from '../helpers/kafka.ts';
import { createScienceLog, ScienceLogWriter, simulatedAlerts } from '../helpers/science-log.ts';

const PARTITIONS = 2;
const ALERTS = 40;
const MiB = 1 << 20;

describe('batches of a group member over the science log', () => {
  let cluster: TestCluster;
  let connection: KafkaConnection;
  let alerts: NewAlert[];
  let topic: string;

  withTestCluster(async (started) => {
    cluster = started;
    connection = kafkaClientOptions(loadConfig({ env: testEnv(cluster.env) }));
    const prefix = `gb${process.pid}_science_`;
    topic = scienceTopic(prefix, 'lsst');
    await createScienceLog(connection, prefix, PARTITIONS, ['lsst']);
    // Rubin alerts of about 190 kB, 4 to a transaction: each fetch round of 1 MiB a partition
    // brings a few of them, 40 of them are about 7.5 MB.
    alerts = simulatedAlerts(5, '20261205', ALERTS, 'lsst');
    const writer = new ScienceLogWriter(connection, prefix, `gb${process.pid}-writer`, PARTITIONS);
    try {
      await writer.write(alerts, 4);
    } finally {
      await writer.close();
    }
  });

  /** The member's partitions taken at the log's start (no window), read by `body`. */
  async function withPartitions<T>(body: (taken: LogPartitions) => Promise<T>): Promise<T> {
    const reader = newPartitionReader(connection, 'group-batches-test');
    try {
      const partitions = Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition }));
      const taken = await LogPartitions.take(reader, partitions, () => 'lsst', new Map(), 0, silentLogger);
      return await body(taken);
    } finally {
      await reader.close(true);
    }
  }

  const bytesOf = (batch: LogBatch) => batch.alerts.reduce((n, a) => n + a.wire.length, 0);

  test('a batch is gathered to its size over several fetch rounds: the whole 7.5 MB log in one batch of 16 MiB', async () => {
    const batch = await withPartitions((taken) => taken.read(500, 16 * MiB, 1000));
    const total = alerts.reduce((n, a) => n + a.datum.length + (a.added?.datum.length ?? 0), 0);
    assert.ok(total > 2 * PARTITIONS * MiB, `the log holds more than two fetch rounds (${total} bytes)`);
    assert.equal(batch.alerts.length, ALERTS, `one batch holds every alert of the log (${batch.alerts.length} of ${ALERTS}, ${bytesOf(batch)} bytes)`);
    assert.deepEqual(new Set(batch.alerts.map((a) => a.alertId)), new Set(alerts.map((a) => a.alertId)));
  });

  test('a batch stops at its bytes, and the next goes on where it stopped: every alert once, in order within its partition', async () => {
    const batches = await withPartitions(async (taken) => {
      const out: LogBatch[] = [];
      for (let seen = 0; seen < ALERTS;) {
        const batch = await taken.read(500, 2 * MiB, 1000);
        assert.ok(batch.alerts.length > 0, `batch ${out.length + 1} is not empty (${seen} of ${ALERTS} read)`);
        taken.confirm(batch);
        out.push(batch);
        seen += batch.alerts.length;
      }
      return out;
    });
    const largest = Math.max(...alerts.map((a) => a.datum.length + (a.added?.datum.length ?? 0)));
    for (const [i, batch] of batches.slice(0, -1).entries()) {
      const bytes = bytesOf(batch);
      assert.ok(bytes >= 2 * MiB && bytes < 2 * MiB + largest, `batch ${i + 1}: ${bytes} bytes, at its size (2 MiB) and past it by less than one alert`);
    }
    const read = batches.flatMap((b) => b.alerts.map((a) => a.alertId));
    assert.equal(read.length, ALERTS);
    assert.deepEqual(new Set(read), new Set(alerts.map((a) => a.alertId)));
    const places = batches.flatMap((b) => b.places);
    for (let p = 0; p < PARTITIONS; p++) {
      const offsets = places.filter((x) => x.partition === p).map((x) => x.offset);
      assert.deepEqual(offsets, [...offsets].sort((a, b) => (a < b ? -1 : 1)), `partition ${p} in offset order`);
    }
  });

  test('a batch stops at its count of alerts', async () => {
    const batch = await withPartitions((taken) => taken.read(7, 16 * MiB, 1000));
    assert.equal(batch.alerts.length, 7);
  });
});
