// The console's table of user filters (issue 23): the rows from the registrations, the panel's
// rates and the service's counters; and on a real broker, through the server's event stream, the
// filters `fink filter add` registered, with their rates, counts over quota and errors while a real
// distribution fills their topics, a filter gone once removed; no registrations topic is no
// filter; a console user without rights on that topic (secured mode) is told so, once, on the page
// (Debian's Chromium).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { addScramUser } from '../../src/cluster/security.ts';
import { clusterSettings } from '../../src/cluster/settings.ts';
import { loadConfig, type Config } from '../../src/config/config.ts';
import { LiveConsole, type ConsoleEvent } from '../../src/console/live.ts';
import { parsePrometheus } from '../../src/console/panel.ts';
import { consoleServer } from '../../src/console/server.ts';
import { consoleSettings } from '../../src/console/settings.ts';
import { UserFilterList, userFilterRows, type UserFilterRow, type UserFiltersSnapshot } from '../../src/console/user-filters.ts';
import { Metrics } from '../../src/distribution/metrics.ts';
import { kafkaClientOptions } from '../../src/kafka/client-options.ts';
import { simulateIntoDb } from '../../src/sciencedb/simulate.ts';
import type { Registration } from '../../src/userfilter/registration.ts';
import { runCli, runFink, testEnv } from '../helpers/cli.ts';
import { distributionSetup, SESSION_OPEN, spawnDistribution, type DistributionProcess, type DistributionSetup } from '../helpers/distribution.ts';
import { freePortPair, startTestCluster, type TestCluster } from '../helpers/kafka.ts';
import { tempDir } from '../helpers/temp.ts';
import { waitFor } from '../helpers/wait.ts';
import { launchChromium, startConsole } from './console-process.ts';
import { consoleEnv } from './raw-http.ts';

// The functions given to page.waitForFunction run in the browser (the project compiles without the DOM library).
declare const document: { querySelector(selector: string): { textContent: string | null } | null };

const NIGHT = '20261205';

function registration(owner: string, name: string, quotaMb: number | null): Registration {
  return { owner, name, survey: 'ztf', where: 'fid = 1', content: 'full', quotaMb, created: '2026-12-05T05:00:00.000Z', topic: `fink_u_${owner}_${name}_ztf` };
}

test('a row per filter, sorted: its quota (its own or the default), its topic\'s rates now, its counts over quota and errors from the metrics endpoint', () => {
  const metrics = new Metrics();
  metrics.userFilterOverQuota.set('public/capped/ztf', 7);
  metrics.userFilterErrors.set('alice/boom/ztf', 3);
  const scraped = parsePrometheus(metrics.render());
  const registrations = [registration('public', 'capped', 5), registration('alice', 'boom', null)];
  const rates = { fink_u_public_capped_ztf: [12.5, 0.25] as const };
  const rows = userFilterRows(registrations, { topic: 'regs', defaultQuotaMb: 40 }, rates, scraped);
  assert.deepEqual(rows.map((r) => [r.owner, r.name, r.quotaMb, r.quotaFrom, r.alertsPerSecond, r.bytesPerSecond, r.overQuota, r.errors]), [
    ['alice', 'boom', 40, 'default', 0, 0, 0, 3],
    ['public', 'capped', 5, 'filter', 12.5, 250_000, 7, 0],
  ]);
  const bare = userFilterRows(registrations, { topic: 'regs', defaultQuotaMb: undefined }, undefined, undefined);
  assert.deepEqual(bare.map((r) => [r.quotaMb, r.quotaFrom, r.alertsPerSecond, r.bytesPerSecond, r.overQuota, r.errors]), [
    [null, 'none', null, null, null, null],
    [5, 'filter', null, null, null, null],
  ], 'before two samples no rate, without the endpoint no counts');
});

/** The console's event stream as a page reads it: every `service` event's user filters, the latest last. */
async function followEvents(base: string, signal: AbortSignal): Promise<{ latest: () => UserFiltersSnapshot | null | undefined; seen: UserFiltersSnapshot[] }> {
  const response = await fetch(`${base}/events`, { signal });
  assert.equal(response.status, 200);
  const seen: UserFiltersSnapshot[] = [];
  let latest: UserFiltersSnapshot | null | undefined;
  void (async () => {
    const decoder = new TextDecoder();
    let text = '';
    try {
      for await (const chunk of response.body!) {
        text += decoder.decode(chunk as Uint8Array, { stream: true });
        let end: number;
        while ((end = text.indexOf('\n\n')) >= 0) {
          const frame = text.slice(0, end);
          text = text.slice(end + 2);
          const data = /^data: (.*)$/m.exec(frame)?.[1];
          if (!frame.startsWith('event: service') || data === undefined) continue;
          latest = (JSON.parse(data) as Extract<ConsoleEvent, { type: 'service' }>).panel.userFilters;
          if (latest !== null) seen.push(latest);
        }
      }
    } catch {
      // Aborted at the end of the test.
    }
  })();
  return { latest: () => latest, seen };
}

const rowOf = (snapshot: UserFiltersSnapshot | null | undefined, name: string): UserFilterRow | undefined => snapshot?.filters.find((f) => f.name === name);

describe('the console lists the user filters of a live distribution', { timeout: 900_000 }, () => {
  let cluster: TestCluster;
  let setup: DistributionSetup;
  let service: DistributionProcess | undefined;
  let live: LiveConsole;
  let base: string;
  let closeServer: () => Promise<void>;
  const stop = new AbortController();

  before(async () => {
    cluster = await startTestCluster();
    const filters = tempDir('console-throwing-filters');
    writeFileSync(join(filters, 'boom.mjs'), "export const description = 'throws for fid 2';\nexport function filter(alert) {\n  if (alert.fid === 2) throw new Error('boom for fid 2');\n  return true;\n}\n");
    setup = distributionSetup(cluster, { USER_FILTERS_TOPIC: `uf${process.pid}_registrations`, USER_TOPIC_PREFIX: `uf${process.pid}_u_`, FILTERS_DIR: filters, DISTRIBUTION_BATCH: '50', DISTRIBUTION_POLL_MS: '100', DISTRIBUTION_METRICS_PORT: String(await freePortPair(1)) });
    live = new LiveConsole({ ...consoleSettings(setup.config), probe: { process: () => ({ id: 'x', pid: undefined }), checkpoint: async () => null } });
    live.start();
    const server = consoleServer(live);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    closeServer = () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  });

  after(async () => {
    stop.abort();
    live?.stop();
    await closeServer?.();
    service?.child.kill('SIGTERM');
    await service?.exited;
    await cluster?.stop();
  });

  test('no registrations topic yet: an empty table, not an error; then the filters added, their rates while the service fills them, counts over quota and errors; a removed filter leaves', async () => {
    const events = await followEvents(base, stop.signal);
    const empty = await waitFor('a first look at the registrations', () => events.seen.find((s) => s.version !== null), { detail: () => JSON.stringify(events.latest()) });
    assert.deepEqual([empty.version, empty.problem, empty.filters], ['0', null, []], 'no topic: no filter, and no problem');

    const condition = "fid IN (1, 2) OR cdsxmatch = '<script>alert(1)</script>'";
    for (const [name, extra] of [['everything', ['--where', condition]], ['capped', ['--where', 'fid IN (1, 2)', '--quota-mb', '1']], ['boomer', ['--where', 'boom']]] as const) {
      const added = await runFink(['filter', 'add', name, '--survey', 'ztf', ...extra], setup.env);
      assert.equal(added.status, 0, added.output);
    }
    const listed = await waitFor('the three filters in the table', () => (events.latest()?.filters.length === 3 ? events.latest() : undefined));
    assert.deepEqual(listed.filters.map((f) => [f.owner, f.name, f.survey, f.topic, f.content]), [
      ['public', 'boomer', 'ztf', `uf${process.pid}_u_public_boomer_ztf`, 'full'],
      ['public', 'capped', 'ztf', `uf${process.pid}_u_public_capped_ztf`, 'full'],
      ['public', 'everything', 'ztf', `uf${process.pid}_u_public_everything_ztf`, 'full'],
    ]);
    assert.equal(rowOf(listed, 'everything')!.where, condition, 'the condition as the user wrote it');
    assert.deepEqual([rowOf(listed, 'capped')!.quotaMb, rowOf(listed, 'capped')!.quotaFrom], [1, 'filter']);

    service = spawnDistribution(setup.env);
    await service.waitForOutput(SESSION_OPEN, 'the service to open its session');
    // Alerts keep coming (a new night's worth each look) until a sample of the panel has seen the
    // topic move: a rate is a difference between two samples.
    let seed = 100;
    const moving = await waitFor('a rate on the filter\'s topic, over-quota and error counts', () => {
      simulateIntoDb(setup.dbDir, { profile: 'ztf-light', seed: seed++, night: NIGHT }, 100);
      return events.seen.find((s) => (rowOf(s, 'everything')?.alertsPerSecond ?? 0) > 0 && (rowOf(s, 'capped')?.overQuota ?? 0) > 0 && (rowOf(s, 'boomer')?.errors ?? 0) > 0);
    }, { everyMs: 1000, timeoutMs: 300_000, detail: () => `${JSON.stringify(events.latest())}\n${service!.output()}` });
    assert.ok(rowOf(moving, 'everything')!.bytesPerSecond! > 0, 'bytes/s with alerts/s');

    const removed = await runFink(['filter', 'remove', 'capped', '--survey', 'ztf'], setup.env);
    assert.equal(removed.status, 0, removed.output);
    const after = await waitFor('the removed filter gone from the table', () => (events.latest()?.filters.length === 2 ? events.latest() : undefined));
    assert.deepEqual(after.filters.map((f) => f.name), ['boomer', 'everything']);
    assert.equal(after.problem, null);
  });

  test('the filters\' topics are followed like the science topics, though their prefix is not SUBSTREAM_PREFIX', async () => {
    const topic = `uf${process.pid}_u_public_everything_ztf`;
    assert.ok(!topic.startsWith(setup.config.require('SUBSTREAM_PREFIX')));
    await waitFor(`the console reading ${topic}`, () => {
      const seen = live.serviceEvent();
      return seen.type === 'service' && seen.topics.some((t) => t.topic === topic && t.messages > 0);
    }, { timeoutMs: 180_000, detail: () => JSON.stringify(live.serviceEvent()) });
  });
});

describe('a console whose Kafka user may not read the registrations (secured mode)', { timeout: 600_000 }, () => {
  let cluster: TestCluster;
  let config: Config;
  const REFUSED = "the console's Kafka user bob may not read _fink_user_filters: user filters not shown (grant it READ and DESCRIBE on that topic)";
  const BOB = { username: 'bob', password: 'bob-password-long-enough' };
  before(async () => {
    cluster = await startTestCluster({ secured: true });
    const added = runCli('fink', ['filter', 'add', 'mine', '--survey', 'ztf', '--where', 'fid = 1', '--owner', 'alice'], cluster.env);
    assert.equal(added.status, 0, added.stderr);
    config = loadConfig({ env: testEnv(cluster.env) });
    await addScramUser(clusterSettings(config, 'distribution'), BOB.username, BOB.password);
  });
  after(async () => cluster?.stop());

  test('says so in the table\'s note and lists no filter', async () => {
    const list = new UserFilterList({ ...kafkaClientOptions(config), sasl: { mechanism: 'SCRAM-SHA-512', ...BOB } }, { topic: '_fink_user_filters', defaultQuotaMb: undefined });
    const admin = new UserFilterList(kafkaClientOptions(config), { topic: '_fink_user_filters', defaultQuotaMb: undefined });
    try {
      await admin.sample();
      assert.deepEqual(admin.snapshot(undefined, undefined).filters.map((f) => f.name), ['mine'], 'the registration is there for a user with rights');
      await list.sample();
      const snapshot = list.snapshot(undefined, undefined);
      assert.deepEqual([snapshot.version, snapshot.problem, snapshot.filters], [null, REFUSED, []]);
    } finally {
      await list.close();
      await admin.close();
    }
  });

  test('the page says it once, in the table\'s note, and not among the errors', async (t) => {
    const browser = await launchChromium(t);
    if (browser === undefined) return;
    const consoleProcess = await startConsole({ ...consoleEnv().env, ...cluster.env, KAFKA_SASL_USERNAME: BOB.username, KAFKA_SASL_PASSWORD: BOB.password });
    try {
      const page = await browser.newPage();
      await page.goto(consoleProcess.url, { waitUntil: 'load' });
      await page.waitForFunction((m) => document.querySelector('#user-filters-note')?.textContent === m, { timeout: 180_000 }, REFUSED);
      assert.equal(await page.$eval('#user-filters-note', (n) => n.hasAttribute('hidden')), false);
      assert.equal(await page.$$eval('#user-filters tbody tr', (rows) => rows.length), 0, 'no row, not even "no user filter registered"');
      const everywhere = await page.$eval('body', (b) => b.textContent ?? '');
      assert.equal(everywhere.split(REFUSED).length - 1, 1, 'said once on the page');
    } finally {
      await browser.close();
      await consoleProcess.stop();
    }
  });
});
