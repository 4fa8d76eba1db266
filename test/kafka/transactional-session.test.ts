// A failed send of the service's transactional session: it throws only once every request of the
// send has ended, so that the abort that follows never races a produce still on its way (one landing
// after its partition's abort marker would be outside the transaction it was sent in).
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { after, before, describe, it } from 'node:test';
import { loadConfig, type Config } from '../../src/config/config.ts';
import { kafkaClientOptions } from '../../src/kafka/client-options.ts';
import { errorIds } from '../../src/kafka/errors.ts';
import { ensureTopic } from '../../src/kafka/topics.ts';
import { TransactionalSession } from '../../src/kafka/transactional-session.ts';
import { testEnv } from '../helpers/cli.ts';
import { readAll } from '../helpers/distribution.ts';
import { startTestCluster, type TestCluster } from '../helpers/kafka.ts';

/** Kafka's Produce API key. */
const PRODUCE = 0;
const SMALL = 'session_small_messages_only';
const LARGE = 'session_large';

describe('the transactional session when a send fails', { timeout: 240_000 }, () => {
  let cluster: TestCluster;
  let config: Config;
  before(async () => {
    cluster = await startTestCluster();
    config = loadConfig({ env: testEnv(cluster.env) });
    const admin = kafkaClientOptions(config, 'admin');
    await ensureTopic(admin, SMALL, { partitions: 1, replicationFactor: 1, configs: { 'max.message.bytes': '2048' } });
    await ensureTopic(admin, LARGE, { partitions: 4, replicationFactor: 1 });
  });
  after(() => cluster?.stop());

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
    const committed = await readAll(config, LARGE);
    assert.deepEqual(committed.map((m) => m.value?.toString()), ['after', 'after', 'after', 'after'], 'only the next transaction\'s records are committed');
  });
});
