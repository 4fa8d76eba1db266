// The console on the science log (SCIENCE_STORE=kafka): `fink start console` as a child process,
// read over its event stream and its API by real HTTP clients, while a writer fills a log on a
// real broker and a group instance distributes it. The panel shows each survey topic's write rate
// and the group's lag; the log's own topics are not shown as community topics; search says it
// needs the SQLite store.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { LogTopicRow } from '../../src/console/log-panel.ts';
import type { ConsoleEvent } from '../../src/console/live.ts';
import { scienceTopic } from '../../src/sciencedb/log-format.ts';
import { kafkaClientOptions } from '../../src/kafka/client-options.ts';
import { runFink } from '../helpers/cli.ts';
import { distributionSetup, type DistributionSetup } from '../helpers/distribution.ts';
import { startTestCluster, type TestCluster } from '../helpers/kafka.ts';
import { createScienceLog, ScienceLogWriter, simulatedAlerts } from '../helpers/science-log.ts';
import { transactionsReady } from '../helpers/transactions.ts';
import { waitFor } from '../helpers/wait.ts';
import { launchChromium, startConsole, type ConsoleProcess } from './console-process.ts';
import { raw } from './raw-http.ts';

// The page's side runs in Chromium; the test's TypeScript has no DOM library, so the little it touches is declared here.
interface PageNode { textContent: string | null; hidden: boolean; placeholder: string; getAttribute(name: string): string | null }
declare const document: { querySelector(selector: string): PageNode | null };

type ServiceEvent = Extract<ConsoleEvent, { type: 'service' }>;
const NIGHT = '20261204';
const DEADLINE = 240_000;
/** Within puppeteer's own protocol timeout (180 s), as page.test.ts. */
const PAGE_DEADLINE = 150_000;

/** The console's event stream, kept open: the latest service update it sent. */
function followService(base: string): { latest: () => ServiceEvent | undefined; close: () => void } {
  const url = new URL(base);
  let latest: ServiceEvent | undefined;
  let text = '';
  const req = request({ host: url.hostname, port: url.port, path: '/events' }, (res) => {
    res.on('data', (c: Buffer) => {
      text += c.toString('utf8');
      let end: number;
      while ((end = text.indexOf('\n\n')) >= 0) {
        const frame = text.slice(0, end);
        text = text.slice(end + 2);
        const data = /^event: service\ndata: (.*)$/s.exec(frame)?.[1];
        if (data !== undefined) latest = JSON.parse(data) as ServiceEvent;
      }
    });
  });
  req.on('error', () => undefined);
  req.end();
  return { latest: () => latest, close: () => req.destroy() };
}

describe('the console on the science log', { timeout: 900_000 }, () => {
  let cluster: TestCluster;
  let setup: DistributionSetup;
  let consoleProcess: ConsoleProcess;
  let service: ReturnType<typeof followService>;
  let writer: ScienceLogWriter;
  const tag = `c${process.pid}`;
  const prefix = `${tag}_science_`;
  const group = `${tag}-group`;
  const ztf = scienceTopic(prefix, 'ztf');

  const rows = (): LogTopicRow[] => service.latest()?.panel.log?.topics ?? [];
  const detail = () => JSON.stringify(service.latest()?.panel.log) + '\n' + consoleProcess.output();

  before(async () => {
    cluster = await startTestCluster();
    setup = distributionSetup(cluster, { SCIENCE_STORE: 'kafka', SCIENCE_TOPIC_PREFIX: prefix, SUBSTREAM_PREFIX: `${tag}_`, DISTRIBUTION_TEST_TOPIC: `${tag}_distribution_test`, DISTRIBUTION_GROUP: group, DISTRIBUTION_BATCH: '100' });
    const connection = kafkaClientOptions(setup.config);
    await createScienceLog(connection, prefix, undefined, ['ztf']);
    // The writer's first session opens in a test, on this fresh cluster: its coordinators first.
    await transactionsReady(connection);
    writer = new ScienceLogWriter(connection, prefix, `${tag}-writer`);
    consoleProcess = await startConsole(setup.env);
    service = followService(consoleProcess.url);
  });

  after(async () => {
    service?.close();
    await consoleProcess?.stop();
    await writer?.close();
    await cluster?.stop();
  });

  test('search answers 501 and says it needs the SQLite store; the page is told the store is the log', async () => {
    const answer = await raw(consoleProcess.url, '/api/search?q=ZTF21aaaaaaa');
    assert.equal(answer.status, 501);
    const body = JSON.parse(answer.body) as { error: string; store: string };
    assert.equal(body.store, 'kafka');
    assert.match(body.error, /search needs the SQLite science database \(SCIENCE_STORE=sqlite\)/);
    const event = await waitFor('a service update', () => service.latest(), { timeoutMs: DEADLINE });
    assert.equal(event.panel.store, 'kafka');
    assert.equal(event.panel.log?.group, group);
  });

  test('a log being written shows a non-zero write rate and the whole log as lag; a group instance caught up brings the lag to 0', async (t) => {
    const started = Date.now();
    const at = (what: string) => t.diagnostic(`${what} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const alerts = simulatedAlerts(31, NIGHT, 1000);
    await writer.write(alerts.slice(0, 500), 100);
    // A sample that saw these writes, then more writes: the next sample that sees the log grown
    // computes its rate against one taken before them.
    const seen = await waitFor('the console to see the first writes', () => rows().find((r) => r.topic === ztf && r.offsets >= 500), { timeoutMs: DEADLINE, detail });
    await writer.write(alerts.slice(500), 100);
    const grown = await waitFor('a sample of the log grown since', () => rows().find((r) => r.topic === ztf && r.offsets > seen.offsets), { timeoutMs: DEADLINE, detail });
    at(`the log seen growing at ${grown.rate} offsets/s`);
    assert.ok(grown.rate !== null && grown.rate > 0, JSON.stringify(grown));
    const written = alerts.length;
    // Nothing committed by the group yet: its lag is every offset of the log (it starts at 0).
    const before = await waitFor('the lag to cover what was written', () => rows().find((r) => r.topic === ztf && r.lag >= written), { timeoutMs: DEADLINE, detail });
    assert.equal(before.lag, before.offsets, 'no offset committed: the whole log is behind');
    assert.equal(before.partitions, 12);
    at('the lag seen');
    const run = await runFink(['start', 'distribution', '--group', group, '--until-caught-up'], setup.env);
    assert.equal(run.status, 0, run.output);
    at('the instance caught up');
    const caughtUp = await waitFor('the group\'s lag at 0', () => rows().find((r) => r.topic === ztf && r.lag === 0 && r.offsets >= written), { timeoutMs: DEADLINE, detail });
    assert.ok(caughtUp.offsets >= written, `${caughtUp.offsets} offsets for ${written} alerts (and their transactions' markers)`);
  });

  test('the science log\'s topics are not followed as community topics, though their prefix starts with SUBSTREAM_PREFIX', async () => {
    // The community topics are those the instance of the test before created.
    const event = await waitFor('a service update after the community topics appeared', () => {
      const latest = service.latest();
      return latest !== undefined && latest.topics.some((t) => t.topic !== setup.env.DISTRIBUTION_TEST_TOPIC) ? latest : undefined;
    }, { timeoutMs: DEADLINE, detail });
    assert.deepEqual(event.topics.filter((t) => t.topic.startsWith(prefix)).map((t) => t.topic), []);
    assert.ok(!/undecodable/.test(event.panel.errors.map((e) => e.kind).join(' ')), JSON.stringify(event.panel.errors));
  });

  test('the page shows the Science log panel with the group\'s lag in place of the lag per night, and says search needs SQLite', async (t) => {
    const browser = await launchChromium(t);
    if (browser === undefined) return;
    try {
      const page = await browser.newPage();
      await page.goto(consoleProcess.url);
      await page.waitForFunction((topic) => document.querySelector(`#log tr[data-topic="${topic}"]`)?.getAttribute('data-lag') === '0', { timeout: PAGE_DEADLINE }, ztf);
      assert.equal(await page.$eval('#science-log', (e) => (e as unknown as PageNode).hidden), false);
      assert.equal(await page.$eval('#night-lag', (e) => (e as unknown as PageNode).hidden), true);
      assert.match(await page.$eval('#search input', (e) => (e as unknown as PageNode).placeholder), /needs SCIENCE_STORE=sqlite/);
      await page.type('#search input', 'ZTF21aaaaaaa');
      await page.click('#search button');
      await page.waitForFunction(() => /needs the SQLite science database/.test(document.querySelector('#search-query')?.textContent ?? ''), { timeout: PAGE_DEADLINE });
    } finally {
      await browser.close();
    }
  });
});
