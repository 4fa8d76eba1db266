// The service's transactional session on a real broker. A failed send throws only once every
// request of the send has ended, so that the abort that follows never races a produce still on its
// way (one landing after its partition's abort marker would be outside the transaction it was sent
// in). A send right after a commit waits out the coordinator, which refuses the next transaction's
// partitions until the commit's markers are written.
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { describe, it } from 'node:test';
import { Admin } from '@platformatic/kafka';
import { loadConfig, type Config } from '../../src/config/config.ts';
import { kafkaClientOptions } from '../../src/kafka/client-options.ts';
import { errorIds, isCoordinatorSettling } from '../../src/kafka/errors.ts';
import { ensureTopic } from '../../src/kafka/topics.ts';
import { TransactionalSession } from '../../src/kafka/transactional-session.ts';
import { testEnv } from '../helpers/cli.ts';
import { readAll } from '../helpers/distribution.ts';
import { withTestCluster, type TestCluster } from '../helpers/kafka.ts';

/** Kafka's Produce and AddPartitionsToTxn API keys. */
const PRODUCE = 0;
const ADD_PARTITIONS = 24;
const SMALL = 'session_small_messages_only';
const LARGE = 'session_large';
/** Enough partitions that the coordinator takes a while to write a commit's markers. */
const MANY = 'session_many_partitions';
const MANY_PARTITIONS = 100;
/**
 * Every transaction of a suite has ended when it reads a topic back, so the read waits for the last
 * commit's markers as long as a loaded broker may take to write them (on 100 partitions), rather
 * than the reader's 2 s.
 */
const SETTLE_MS = 120_000;

describe('the transactional session', { timeout: 240_000 }, () => {
  let cluster: TestCluster;
  let config: Config;
  withTestCluster(async (started) => {
    cluster = started;
    config = loadConfig({ env: testEnv(cluster.env) });
    const admin = kafkaClientOptions(config, 'admin');
    await ensureTopic(admin, SMALL, { partitions: 1, replicationFactor: 1, configs: { 'max.message.bytes': '2048' } });
    await ensureTopic(admin, LARGE, { partitions: 4, replicationFactor: 1 });
    // Sends into every partition follow at once: ensureTopic returns once the broker has opened them all (the first test).
    await ensureTopic(admin, MANY, { partitions: MANY_PARTITIONS, replicationFactor: 1 });
  });

  it('a topic just made by ensureTopic is led in every partition: asked at once without retries, then written in one transaction', async () => {
    const topic = 'session_fresh_many';
    const connection = kafkaClientOptions(config, 'admin');
    assert.equal(await ensureTopic(connection, topic, { partitions: MANY_PARTITIONS, replicationFactor: 1 }), true);
    // No retries: createTopics alone returns before the broker leads a hundred partitions (about a
    // second on an idle machine, every time), and each would then answer NOT_LEADER_OR_FOLLOWER.
    const probe = new Admin({ clientId: 'session-test-probe', ...connection, retries: 0 });
    try {
      const listed = await probe.listOffsets({ topics: [{ name: topic, partitions: Array.from({ length: MANY_PARTITIONS }, (_, partitionIndex) => ({ partitionIndex, timestamp: -1n })) }] });
      assert.equal(listed[0]?.partitions.length, MANY_PARTITIONS);
    } finally {
      await probe.close();
    }
    const session = new TransactionalSession({ connection: kafkaClientOptions(config), transactionalId: 'session-fresh-topic', clientId: 'session-test' });
    try {
      await session.open();
      await session.send([Array.from({ length: MANY_PARTITIONS }, (_, partition) => ({ topic, partition, value: Buffer.from(`p${partition}`) }))]);
      await session.commit();
    } finally {
      await session.close();
    }
    assert.equal((await readAll(config, topic, SETTLE_MS)).length, MANY_PARTITIONS);
    assert.equal(await ensureTopic(connection, topic, { partitions: MANY_PARTITIONS, replicationFactor: 1 }), false, 'a topic that exists is left as it is');
  });

  /**
   * A send whose first request the broker refuses while a larger one behind it is still being
   * written (the broker answers a connection's requests in order), then the session closed (its
   * transaction aborted). Returns how many Produce requests were on their way when the send threw,
   * counted from the client's own diagnostics (published when a request is written to the socket,
   * again when its answer, refusal or not, has been read).
   */
  async function failedSend(transactionalId: string): Promise<number | undefined> {
    let pending = 0;
    const sent = (d: unknown) => { if ((d as { apiKey?: number }).apiKey === PRODUCE) pending++; };
    const answered = (d: unknown) => { if ((d as { apiKey?: number }).apiKey === PRODUCE) pending--; };
    subscribe('tracing:plt:kafka:connections:api:start', sent);
    subscribe('tracing:plt:kafka:connections:api:asyncStart', answered);
    const session = new TransactionalSession({ connection: kafkaClientOptions(config), transactionalId, clientId: 'session-test' });
    try {
      await session.open();
      const refused = [{ topic: SMALL, partition: 0, value: Buffer.alloc(64 * 1024, 1) }];
      const accepted = Array.from({ length: 64 }, (_, i) => ({ topic: LARGE, partition: i % 4, value: Buffer.alloc(64 * 1024, i) }));
      let pendingAtFailure: number | undefined;
      await assert.rejects(
        session.send([refused, accepted], () => 'none').catch((err: unknown) => {
          pendingAtFailure = pending;
          throw err;
        }),
        (err: Error) => errorIds(err).includes('MESSAGE_TOO_LARGE'),
      );
      return pendingAtFailure;
    } finally {
      unsubscribe('tracing:plt:kafka:connections:api:start', sent);
      unsubscribe('tracing:plt:kafka:connections:api:asyncStart', answered);
      await session.close();
    }
  }

  it('throws the broker\'s refusal of one request only after the others of the send have been answered', async () => {
    assert.equal(await failedSend('session-failed-send'), 0, 'no Produce request of the failed send still on its way when it threw');
  });

  it('leaves none of the failed send\'s records committed once the same transactional id commits again', async () => {
    // A produce landing after its partition's abort marker would be outside the transaction it was
    // sent in, and completed by the next commit marker of its producer id.
    await failedSend('session-next-commit');
    const next = new TransactionalSession({ connection: kafkaClientOptions(config), transactionalId: 'session-next-commit', clientId: 'session-test' });
    try {
      await next.open();
      await next.send([Array.from({ length: 4 }, (_, i) => ({ topic: LARGE, partition: i, value: Buffer.from('after') }))]);
      await next.commit();
    } finally {
      await next.close();
    }
    const committed = await readAll(config, LARGE, SETTLE_MS);
    assert.deepEqual(committed.map((m) => m.value?.toString()), ['after', 'after', 'after', 'after'], 'only the next transaction\'s records are committed');
  });

  it('sends right after a commit: the partitions the coordinator refuses while it writes the markers are asked again, nothing lost or doubled', async (t) => {
    // AddPartitionsToTxn answers refused because the coordinator was settling, from the client's own diagnostics.
    let settling = 0;
    const answered = (d: unknown) => {
      const { apiKey, error } = d as { apiKey?: number; error?: unknown };
      if (apiKey === ADD_PARTITIONS && error !== undefined && isCoordinatorSettling(error)) settling++;
    };
    subscribe('tracing:plt:kafka:connections:api:asyncStart', answered);
    const session = new TransactionalSession({ connection: kafkaClientOptions(config), transactionalId: 'session-patient', clientId: 'session-test' });
    let transactions = 0;
    try {
      await session.open();
      // Transactions over every partition, each sent right after the previous commit, until the
      // coordinator refused one at least once (it usually does at once: its markers take a while).
      const deadline = Date.now() + 120_000;
      while (settling === 0 && Date.now() < deadline) {
        await session.send([Array.from({ length: MANY_PARTITIONS }, (_, partition) => ({ topic: MANY, partition, value: Buffer.from(`t${transactions}`) }))]);
        await session.commit();
        transactions++;
      }
    } finally {
      unsubscribe('tracing:plt:kafka:connections:api:asyncStart', answered);
      await session.close();
    }
    t.diagnostic(`${settling} AddPartitionsToTxn answers refused while the coordinator settled, in ${transactions} transactions`);
    assert.ok(settling > 0, `the coordinator never refused a transaction's partitions in ${transactions} transactions sent right after a commit: the case was not exercised`);
    const committed = await readAll(config, MANY, SETTLE_MS);
    assert.equal(committed.length, transactions * MANY_PARTITIONS, 'every record of every committed transaction once');
    const perTransaction = new Map<string, number>();
    for (const m of committed) perTransaction.set(m.value!.toString(), (perTransaction.get(m.value!.toString()) ?? 0) + 1);
    assert.deepEqual([...perTransaction.values()], Array.from({ length: transactions }, () => MANY_PARTITIONS));
  });
});
