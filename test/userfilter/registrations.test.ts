// `fink filter add|list|remove` with a real broker: registrations in the compacted topic, the user's
// topic created, refusals (a duplicate, a condition that is not valid, hostile names) exiting 2 with
// one line and registering nothing, removal leaving the topic, and a second process (and this one,
// through readRegistrations) seeing the same set, and three adds of one filter at
// once: one succeeds.
import assert from 'node:assert/strict';
import { Producer } from '@platformatic/kafka';
import { describe, test } from 'node:test';
import { loadConfig } from '../../src/config/config.ts';
import { kafkaClientOptions, withAdmin, type KafkaConnection } from '../../src/kafka/client-options.ts';
import { describeTopic, listTopics } from '../../src/kafka/topics.ts';
import { addFilter } from '../../src/cli/user-filters.ts';
import type { Registration } from '../../src/userfilter/registration.ts';
import { readTopic } from '../../src/kafka/topic-reader.ts';
import { CONCURRENT_CHANGE, readRegistrations, registrationsVersion } from '../../src/userfilter/registrations.ts';
import { runCli, testEnv } from '../helpers/cli.ts';
import { withTestCluster, type TestCluster } from '../helpers/kafka.ts';

const STORE = '_fink_user_filters';

describe('fink filter add, list, remove', () => {
  let cluster: TestCluster;
  let env: Record<string, string>;
  let connection: KafkaConnection;
  withTestCluster((started) => {
    cluster = started;
    env = { ...cluster.env, DISTRIBUTION_PARTITIONS: '2' };
    connection = kafkaClientOptions(loadConfig({ env: testEnv(env) }));
  });

  const fink = (...args: string[]) => runCli('fink', ['filter', ...args], env);
  const list = (): Registration[] => {
    const run = fink('list', '--json');
    assert.equal(run.status, 0, run.stderr);
    return JSON.parse(run.stdout) as Registration[];
  };
  /** Exit 2, one line on stderr matching `pattern`, nothing on stdout. */
  const refusedWith = (run: ReturnType<typeof fink>, pattern: RegExp) => {
    assert.equal(run.status, 2, run.stderr);
    assert.equal(run.stdout, '');
    assert.equal(run.stderr.trimEnd().split('\n').length, 1, run.stderr);
    assert.match(run.stderr, pattern);
  };

  test('add prints the topic, creates it as the community topics are, and list shows the registration', async () => {
    const run = fink('add', 'bright_g', '--survey', 'ztf', '--where', 'magpsf < 18 AND fid = 1', '--quota-mb', '50');
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, 'fink_u_public_bright_g_ztf\n');
    const topic = await describeTopic(connection, 'fink_u_public_bright_g_ztf');
    assert.equal(topic?.partitions.length, 2, 'DISTRIBUTION_PARTITIONS');
    const found = list().find((r) => r.name === 'bright_g');
    assert.ok(found !== undefined);
    assert.deepEqual({ ...found, created: undefined }, { owner: 'public', name: 'bright_g', survey: 'ztf', where: 'magpsf < 18 AND fid = 1', content: 'full', quotaMb: 50, topic: 'fink_u_public_bright_g_ztf', created: undefined, sent: null, bytesTonight: null });
    assert.ok(Math.abs(Date.parse(found.created) - Date.now()) < 600_000);
    const table = fink('list');
    assert.match(table.stdout, /^owner +name +survey +topic +created +sent +bytes +quota +condition\npublic +bright_g +ztf +fink_u_public_bright_g_ztf +\S+ +- +- +50 MB +magpsf < 18 AND fid = 1\n$/);
  });

  test('the registrations topic is compacted, one partition', async () => {
    assert.equal((await describeTopic(connection, STORE))?.partitions.length, 1);
    const policy = await withAdmin(connection, async (admin) => {
      const [resource] = await admin.describeConfigs({ resources: [{ resourceType: 2, resourceName: STORE, configurationKeys: ['cleanup.policy'] }] });
      return resource?.configs.find((c) => c.name === 'cleanup.policy')?.value;
    });
    assert.equal(policy, 'compact');
  });

  test('a filter of the same owner, name and survey is refused with exit 2, saying how to remove it', () => {
    assert.equal(fink('add', 'dup', '--survey', 'lsst', '--where', 'snr > 5', '--owner', 'alice', '--content', 'light').status, 0);
    refusedWith(fink('add', 'dup', '--survey', 'lsst', '--where', 'snr > 50', '--owner', 'alice'), /exists already: 'fink filter remove dup --owner alice --survey lsst' removes it/);
    const dups = list().filter((r) => r.name === 'dup');
    assert.deepEqual(dups.map((r) => [r.owner, r.where, r.content]), [['alice', 'snr > 5', 'light']]);
    // The same name for another survey or owner is another filter.
    assert.equal(fink('add', 'dup', '--survey', 'ztf', '--where', 'drb > 0.5', '--owner', 'alice').status, 0);
    assert.equal(fink('add', 'dup', '--survey', 'lsst', '--where', 'snr > 5', '--owner', 'bob').status, 0);
  });

  test('two owners whose names would spell the same topic: the second is refused', () => {
    assert.equal(fink('add', 'b_c', '--survey', 'ztf', '--where', 'fid = 2', '--owner', 'a').status, 0);
    refusedWith(fink('add', 'c', '--survey', 'ztf', '--where', 'fid = 2', '--owner', 'a_b'), /topic fink_u_a_b_c_ztf is already filled by filter b_c of a/);
  });

  test('a condition that is not valid exits 2 with its column, and nothing is registered nor created', async () => {
    const before = list().length;
    refusedWith(fink('add', 'broken', '--survey', 'ztf', '--where', 'magpsf < 18 AND fidd = 1'), /^fink: condition at column 17 .*unknown name 'fidd'/);
    refusedWith(fink('add', 'broken', '--survey', 'ztf', '--where', "1=1; DROP TABLE alerts"), /condition at column \d+/);
    refusedWith(fink('add', 'broken', '--survey', 'ztf', '--where', "magpsf < 'x'"), /condition at column \d+/);
    assert.equal(list().length, before);
    assert.ok(!(await listTopics(connection)).some((t) => t.includes('broken')));
  });

  test('hostile names are refused with exit 2 before anything is written', async () => {
    const before = list().length;
    const names = ['Bright', '../etc', 'a.b', 'a-b', '_x', 'x;DROP', 'a/b', 'é', 'n'.repeat(49), "'; --"];
    for (const name of names) refusedWith(fink('add', name, '--survey', 'ztf', '--where', 'fid = 1'), /^fink: filter name: /);
    for (const owner of ['Alice', 'a/b', 'o'.repeat(33), '']) refusedWith(fink('add', 'ok', '--survey', 'ztf', '--where', 'fid = 1', '--owner', owner), /^fink: filter owner: /);
    assert.equal(list().length, before);
    assert.ok(!(await listTopics(connection)).some((t) => t.startsWith('fink_u_') && !/^fink_u_(public_bright_g|alice_dup|bob_dup|a_b_c)_(ztf|lsst)$/.test(t)));
  });

  test('remove drops the registration, the topic stays, and a second remove exits 2', async () => {
    assert.equal(fink('add', 'gone', '--survey', 'ztf', '--where', 'ndethist > 3').status, 0);
    const run = fink('remove', 'gone', '--survey', 'ztf');
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /removed filter gone of public for ztf; topic fink_u_public_gone_ztf stays/);
    assert.ok(!list().some((r) => r.name === 'gone'));
    assert.ok((await listTopics(connection)).includes('fink_u_public_gone_ztf'));
    refusedWith(fink('remove', 'gone', '--survey', 'ztf'), /no filter gone of public for ztf/);
    // Added again after removal, it is a new registration on the same topic.
    assert.equal(fink('add', 'gone', '--survey', 'ztf', '--where', 'ndethist > 4').stdout, 'fink_u_public_gone_ztf\n');
    assert.equal(list().find((r) => r.name === 'gone')?.where, 'ndethist > 4');
  });

  test('another process and readRegistrations see the same set; the version moves with each change', async () => {
    const first = await readRegistrations(connection, STORE);
    const listed = list();
    assert.deepEqual([...first.registrations.values()], listed.map((r) => { const { sent: _s, bytesTonight: _b, ...rest } = r as Registration & { sent: unknown; bytesTonight: unknown }; return rest; }));
    assert.equal(await registrationsVersion(connection, STORE), first.version);
    assert.equal(fink('add', 'seen', '--survey', 'lsst', '--where', 'reliability > 0.9').status, 0);
    const second = await readRegistrations(connection, STORE);
    assert.ok(second.version > first.version);
    assert.equal(await registrationsVersion(connection, STORE), second.version);
    assert.equal(second.registrations.get('public/seen/lsst')?.topic, 'fink_u_public_seen_lsst');
    assert.equal(second.registrations.size, first.registrations.size + 1);
  });

  test('a record of the registrations topic that is not a registration is named and passed over', async () => {
    const producer = new Producer({ clientId: 'fink-test', ...connection });
    try {
      await producer.send({ messages: [{ topic: STORE, key: Buffer.from('public/x/ztf'), value: Buffer.from('{"owner":"public"') }, { topic: STORE, key: Buffer.from('eve/x/ztf'), value: Buffer.from(JSON.stringify({ owner: 'public', name: 'x', survey: 'ztf', where: 'TRUE', content: 'full', quotaMb: null, created: 'now', topic: 'fink_u_public_x_ztf' })) }] });
    } finally {
      await producer.close();
    }
    const set = await readRegistrations(connection, STORE);
    assert.deepEqual(set.ignored.map((i) => [i.key, i.reason]), [['public/x/ztf', 'not JSON'], ['eve/x/ztf', 'its key is not public/x/ztf']]);
    assert.ok(![...set.registrations.keys()].some((k) => k.endsWith('/x/ztf')));
    const run = fink('list');
    assert.equal(run.status, 0);
    assert.match(run.stderr, /passed over a record of _fink_user_filters\/0@\d+ \(key public\/x\/ztf\): not JSON/);
  });

  test('three adds of the same filter started at once: exactly one succeeds, the others fail with one line, and one record is written', async (t) => {
    const config = loadConfig({ env: testEnv(env) });
    for (const name of ['twice', 'twice_again']) {
      // In one process, started in the same tick: their reads of the registrations overlap.
      const request = { name, owner: undefined, survey: 'ztf' as const, where: 'fid = 1', content: 'full' as const, quotaMb: null };
      const runs = await Promise.allSettled([addFilter(config, request, []), addFilter(config, request, []), addFilter(config, request, [])]);
      // Readable at read_committed (its commit's markers written) by the time add returned.
      const version = await registrationsVersion(connection, STORE);
      const won = runs.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      const lost = runs.flatMap((r) => (r.status === 'rejected' ? [(r.reason as Error).message] : []));
      assert.equal(won.length, 1, `one add succeeds; the others: ${lost.join(' | ')}`);
      assert.equal(won[0]!.topic, `fink_u_public_${name}_ztf`);
      for (const message of lost) assert.ok(message === CONCURRENT_CHANGE || /exists already/.test(message), message);
      t.diagnostic(`${name}: the others: ${lost.join(' | ')}`);
      const records: { offset: bigint; value: string }[] = [];
      for await (const m of readTopic(connection, STORE, { settleMs: 0 })) if (m.key?.toString() === `public/${name}/ztf`) records.push({ offset: m.offset, value: m.value?.toString() ?? 'tombstone' });
      assert.equal(records.length, 1, `one record of public/${name}/ztf in ${STORE}: ${records.map((r) => r.value).join(', ')}`);
      assert.ok(version > records[0]!.offset, `the registration at offset ${records[0]!.offset} is within the read_committed end (${version}) as add returns`);
    }
  });
});
