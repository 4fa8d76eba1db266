// The console as a person uses it: a real cluster, a real distribution service, `fink start
// console`, and Debian's Chromium driving the page. New alerts of both surveys (ZTF and Rubin) show
// up after their commit; opening one shows three decoded cutouts and a light curve with each band; search finds it; the Avro
// download holds it; a user filter shows in its table, its condition as text. Screenshots go to var/test-artifacts/ when a test fails (and to
// FINK_CONSOLE_SCREENSHOT when that is set, for the README).
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { decode } from 'fast-png';
import type { Browser, Page } from 'puppeteer-core';
import { bufferSource, readContainer } from '../../src/avro/container.ts';
import { parseAvroType, type RecordSchema } from '../../src/avro/schema.ts';
import { packageRoot } from '../../src/config/config.ts';
import { createSimulation, simulateIntoDb } from '../../src/sciencedb/simulate.ts';
import { ScienceWriter, type NewAlert } from '../../src/sciencedb/store.ts';
import { runFink } from '../helpers/cli.ts';
import { distributionSetup, spawnDistribution, waitForCommitted, SESSION_OPEN, type DistributionProcess, type DistributionSetup } from '../helpers/distribution.ts';
import { freePortPair, startTestCluster, type TestCluster } from '../helpers/kafka.ts';
import { waitFor } from '../helpers/wait.ts';
import { launchChromium, startConsole, type ConsoleProcess } from './console-process.ts';

type Rec = Record<string, unknown>;

// The functions given to page.waitForFunction run in the browser; the project compiles without the
// DOM library, so the little they touch is declared here.
interface PageNode { textContent: string | null; getAttribute(name: string): string | null }
interface PageImage extends PageNode { complete: boolean; naturalWidth: number; naturalHeight: number; src: string }
declare const document: { querySelector(selector: string): PageNode | null; querySelectorAll(selector: string): ArrayLike<PageNode> & Iterable<PageNode> };
const NIGHT = '20261125';
const ZTF_BANDS: Record<number, string> = { 1: 'g', 2: 'r', 3: 'i' };
const DEADLINE = 180_000;
const ARTIFACTS = join(packageRoot(), 'var', 'test-artifacts');

describe('the console page, in Chromium, on a live distribution', { timeout: 900_000 }, () => {
  let cluster: TestCluster;
  let setup: DistributionSetup;
  let service: DistributionProcess;
  let consoleProcess: ConsoleProcess;
  let browser: Browser | undefined;
  let page: Page;
  let committed = 0;

  before(async () => {
    cluster = await startTestCluster();
    setup = distributionSetup(cluster, { DISTRIBUTION_BATCH: '50', DISTRIBUTION_METRICS_PORT: String(await freePortPair(1)) });
    committed = simulateIntoDb(setup.dbDir, { profile: 'ztf', seed: 11, night: NIGHT }, 40);
    committed += simulateIntoDb(setup.dbDir, { profile: 'lsst', seed: 21, night: NIGHT }, 10);
    service = spawnDistribution(setup.env);
    await service.waitForOutput(SESSION_OPEN, 'the service to open its session');
    await waitForCommitted(setup, committed);
    consoleProcess = await startConsole(setup.env);
  });

  after(async () => {
    await browser?.close();
    await consoleProcess?.stop();
    service?.child.kill('SIGTERM');
    await service?.exited;
    await cluster?.stop();
  });

  /** Saves a screenshot of the page when the test fails, then fails as it would have. */
  async function withScreenshot(name: string, body: () => Promise<void>): Promise<void> {
    try {
      await body();
    } catch (err) {
      mkdirSync(ARTIFACTS, { recursive: true });
      const file = join(ARTIFACTS, `console-${name}.png`);
      await page?.screenshot({ path: file, fullPage: true }).catch(() => undefined);
      throw new Error(`${(err as Error).message}\n(screenshot: ${file}; console output:\n${consoleProcess.output()})`, { cause: err });
    }
  }

  /** New simulated alerts of a profile whose own history has detections in two bands at least. */
  function freshAlerts(profile: 'ztf' | 'lsst', seed: number, bandsOf: (r: Rec) => string[]) {
    const sim = createSimulation({ profile, seed, night: NIGHT });
    const type = parseAvroType(sim.alertSchema);
    const stored: NewAlert[] = [];
    for (let i = 0; i < 500 && stored.length < 3; i++) {
      const next = sim.next();
      if (new Set(bandsOf(type.fromBuffer(Buffer.from(next.datum)) as Rec)).size >= 2) stored.push(next);
    }
    assert.equal(stored.length, 3, `three ${profile} alerts with two bands among 500`);
    return { stored, records: stored.map((a) => type.fromBuffer(Buffer.from(a.datum)) as Rec), bandsOf };
  }

  /** Clicks the row of the alert with this id; its three cutouts load, decoded at their size. */
  async function openAlert(id: string, size: number): Promise<void> {
    const rowId = await page.$$eval('#rows tr[data-id]', (rows, c) => rows.find((r) => [...r.querySelectorAll('td')].some((td) => td.textContent === c))?.getAttribute('data-id') ?? null, id);
    assert.ok(rowId !== null, `a row for ${id}`);
    await page.click(`#rows tr[data-id="${rowId}"]`);
    await page.waitForFunction((s) => {
      const images = [...document.querySelectorAll('#cutouts img') as unknown as PageImage[]];
      return images.length === 3 && images.every((i) => i.complete && i.naturalWidth === s);
    }, { timeout: DEADLINE }, size);
    const images = await page.$$eval('#cutouts img', (list) => list.map((i) => ({ kind: i.getAttribute('data-kind'), src: (i as unknown as PageImage).src, w: (i as unknown as PageImage).naturalWidth, h: (i as unknown as PageImage).naturalHeight })));
    assert.deepEqual(images.map((i) => i.kind), ['science', 'template', 'difference']);
    for (const image of images) {
      assert.deepEqual([image.w, image.h], [size, size], `${image.kind}: the browser decoded a ${size}x${size} image`);
      const response = await fetch(image.src);
      assert.equal(response.headers.get('content-type'), 'image/png');
      const png = decode(new Uint8Array(await response.arrayBuffer()));
      assert.deepEqual([png.width, png.height, png.channels], [size, size, 1], `${image.kind}: a ${size}x${size} greyscale PNG`);
    }
  }

  /** The light curve has each band with its detections, as the alert's own history counts them. */
  async function expectCurve(expected: Map<string, number>): Promise<void> {
    await page.waitForSelector('#curve canvas', { timeout: DEADLINE });
    const shown = await page.$$eval('#curve-bands li', (list) => list.map((li) => [li.getAttribute('data-band'), Number(li.getAttribute('data-points'))] as const));
    assert.deepEqual(new Map(shown.filter(([, n]) => n > 0)), expected);
    const labels = new Set(await page.$$eval('#curve .u-legend .u-series .u-label', (list) => list.map((l) => l.textContent)));
    for (const band of expected.keys()) assert.ok(labels.has(band), `the chart has a series for band ${band} (its legend: ${[...labels].join(', ')})`);
  }

  test('the page loads, a new alert appears after its commit, and opening it shows three cutouts and its light curve', async (t) => {
    browser = await launchChromium(t);
    if (browser === undefined) return;
    page = await browser.newPage();
    await withScreenshot('load', async () => {
      await page.goto(consoleProcess.url, { waitUntil: 'load' });
      await page.waitForFunction(() => document.querySelector('#connection')?.textContent === 'live', { timeout: DEADLINE });
      await page.waitForFunction(() => /service running/.test(document.querySelector('#service-state')?.textContent ?? ''), { timeout: DEADLINE });
      // Whichever topic's rows came first, the page shows the topic that gets every alert until the user picks one.
      await page.waitForFunction(() => document.querySelector('#topics button.active')?.getAttribute('data-topic') === 'distribution_test', { timeout: DEADLINE });
    });

    // New alerts of both surveys, stored after the page is open: fewer than the console pushes in
    // one update, so every one of them shows; each has detections in two bands at least, so each
    // band is checked.
    const ztf = freshAlerts('ztf', 12, (r) => [r.candidate as Rec, ...((r.prv_candidates as Rec[] | null) ?? [])].filter((c) => c.magpsf !== null).map((c) => ZTF_BANDS[c.fid as number]!));
    // Rubin: alerts of an object (a solar-system source has no diaObjectId to title it with).
    const rubin = freshAlerts('lsst', 13, (r) => (r.diaSource as Rec).diaObjectId === null ? [] : [r.diaSource as Rec, ...((r.prvDiaSources as Rec[] | null) ?? [])].filter((s) => typeof s.psfFlux === 'number' && Number.isFinite(s.psfFlux)).map((s) => s.band as string));
    const writer = new ScienceWriter(setup.dbDir);
    writer.write([...ztf.stored, ...rubin.stored]);
    writer.close();
    const alert = ztf.records[ztf.records.length - 1]!;
    const rubinAlert = rubin.records[rubin.records.length - 1]!;
    const candid = String(alert.candid);
    const diaSourceId = String(rubinAlert.diaSourceId);
    await withScreenshot('new-alert', async () => {
      const total = committed + ztf.stored.length + rubin.stored.length;
      assert.ok((await waitForCommitted(setup, total)) >= total, 'the new alerts are committed');
      const since = Date.now();
      for (const id of [candid, diaSourceId]) {
        await page.waitForFunction((c) => [...document.querySelectorAll('#rows td')].some((td) => td.textContent === c), { timeout: DEADLINE }, id);
      }
      t.diagnostic(`alerts ${candid} (ZTF) and ${diaSourceId} (Rubin) on the page ${Date.now() - since} ms after their commit was seen`);
    });

    await withScreenshot('open-alert', async () => {
      await openAlert(candid, 63);
      await expectCurve(bandCounts(ztf.bandsOf(alert)));
      const fields = await page.$eval('#alert-fields', (e) => e.textContent ?? '');
      assert.match(fields, new RegExp(`"candid": "${candid}"`), 'the fields show the full 64-bit candid');

      const download = await page.$eval('#alert-download', (a) => (a as unknown as { href: string }).href);
      const container = readContainer(bufferSource(Buffer.from(await (await fetch(download)).arrayBuffer())));
      const datum = container.blocks().next().value!.data;
      const decoded = parseAvroType(container.schema as RecordSchema).fromBuffer(datum) as Rec;
      assert.equal(decoded.candid, alert.candid, 'the Avro download holds the alert');
    });

    await withScreenshot('open-rubin-alert', async () => {
      await openAlert(diaSourceId, 110);
      await expectCurve(bandCounts(rubin.bandsOf(rubinAlert)));
      const objectId = String((rubinAlert.diaSource as Rec).diaObjectId);
      assert.equal(await page.$eval('#alert-title', (e) => e.textContent), `${objectId} / ${diaSourceId}`, 'the title names the Rubin object and source');
      const fields = await page.$eval('#alert-fields', (e) => e.textContent ?? '');
      assert.match(fields, new RegExp(`"diaSourceId": "${diaSourceId}"`), 'the fields show the full 64-bit diaSourceId');
    });

    const target = process.env.FINK_CONSOLE_SCREENSHOT;
    if (target !== undefined) {
      const file = resolve(packageRoot(), target);
      mkdirSync(dirname(file), { recursive: true });
      await page.screenshot({ path: file });
      t.diagnostic(`screenshot saved to ${file}`);
    }
  });

  test('search finds an object in the science database and opens it', async (t) => {
    if (browser === undefined) return prerequisiteSkipped(t);
    const sim = createSimulation({ profile: 'ztf', seed: 11, night: NIGHT });
    const first = parseAvroType(sim.alertSchema).fromBuffer(Buffer.from(sim.next().datum)) as Rec;
    await withScreenshot('search', async () => {
      await page.type('#search input', String(first.objectId));
      await page.click('#search button');
      await page.waitForFunction((c) => [...document.querySelectorAll('#search-results td')].some((td) => td.textContent === c), { timeout: DEADLINE }, String(first.candid));
      await page.click('#search-results tr[data-id]');
      await page.waitForFunction((o) => document.querySelector('#alert-title')?.textContent?.startsWith(o) === true, { timeout: DEADLINE }, String(first.objectId));
      await waitFor('the cutouts of the found alert', () => page.$$eval('#cutouts img', (l) => l.length === 3 && l.every((i) => (i as unknown as PageImage).naturalWidth === 63)), { timeoutMs: DEADLINE });
    });
  });

  test('the user filters table lists a filter once added, with its rate while alerts flow, its condition as text (a <script> in it is not run), and drops it once removed', async (t) => {
    if (browser === undefined) return prerequisiteSkipped(t);
    const condition = "fid IN (1, 2) OR cdsxmatch = '<script>window.injected = 1</script><img src=x onerror=\"window.injected = 2\">'";
    const added = await runFink(['filter', 'add', 'page_xss', '--survey', 'ztf', '--where', condition], setup.env);
    assert.equal(added.status, 0, added.output);
    const row = '#user-filters tr[data-filter="public/page_xss/ztf"]';
    await withScreenshot('user-filters', async () => {
      await page.waitForSelector(row, { timeout: DEADLINE });
      const cells = await page.$$eval(`${row} td`, (tds) => tds.map((td) => td.textContent));
      assert.deepEqual(cells.slice(0, 6), ['public', 'page_xss', 'ztf', condition, 'fink_u_public_page_xss_ztf', 'full']);
      assert.equal(await page.$$eval('#user-filters script, #user-filters img', (l) => l.length), 0, 'the condition is text, not markup');
      // Alerts keep coming until a sample of the panel has seen the filter's topic move.
      let seed = 31;
      await waitFor('a rate on the filter\'s row', async () => {
        committed += simulateIntoDb(setup.dbDir, { profile: 'ztf', seed: seed++, night: NIGHT }, 20);
        return Number(await page.$eval(row, (r) => r.getAttribute('data-rate') || '0')) > 0;
      }, { everyMs: 1000, timeoutMs: DEADLINE });
      assert.equal(await page.evaluate('window.injected'), undefined, 'nothing of the condition ran');
      const removed = await runFink(['filter', 'remove', 'page_xss', '--survey', 'ztf'], setup.env);
      assert.equal(removed.status, 0, removed.output);
      await page.waitForFunction((r) => document.querySelector(r) === null, { timeout: DEADLINE }, row);
    });
  });

  test('with a token (as beyond loopback), the page asks for it once, then shows the stream; its cookie is not the script\'s', async (t) => {
    if (browser === undefined) return prerequisiteSkipped(t);
    const token = 'the-page-test-token-0123456789';
    const guarded = await startConsole({ ...setup.env, CONSOLE_TOKEN: token });
    const tab = await browser.newPage();
    try {
      await withScreenshot('login', async () => {
        const first = await tab.goto(guarded.url, { waitUntil: 'load' });
        assert.equal(first?.status(), 401);
        await tab.waitForSelector('#login input[name="token"]', { timeout: DEADLINE });
        await tab.type('#login input[name="token"]', 'not-the-token-0123456789');
        await Promise.all([tab.waitForNavigation({ timeout: DEADLINE }), tab.click('#login button')]);
        assert.equal(await tab.$eval('#login-message', (e) => e.textContent), 'Wrong token.');
        await tab.type('#login input[name="token"]', token);
        await Promise.all([tab.waitForNavigation({ timeout: DEADLINE }), tab.click('#login button')]);
        await tab.waitForFunction(() => document.querySelector('#connection')?.textContent === 'live', { timeout: DEADLINE });
        await tab.waitForFunction(() => document.querySelectorAll('#rows tr[data-id]').length > 0, { timeout: DEADLINE });
        assert.equal(await tab.evaluate('document.cookie'), '', 'the cookie is HttpOnly: no script of the page reads it');
        // Whoever has not logged in (here: a client without the cookie) gets 401.
        assert.equal((await fetch(`${guarded.url}api/search?q=ZTF`)).status, 401);
      });
    } finally {
      await tab.close();
      await guarded.stop();
    }
  });

  test('the service panel: rates from the metrics endpoint, no lag once committed, the broker up, and the service seen stopping', async (t) => {
    if (browser === undefined) return prerequisiteSkipped(t);
    await withScreenshot('panel', async () => {
      await page.waitForFunction(() => /metrics endpoint/.test(document.querySelector('#rate-source')?.textContent ?? ''), { timeout: DEADLINE });
      // Alerts were committed while the console watched: some sample saw distribution_test move.
      await page.waitForFunction(() => Number(document.querySelector('#rates tr[data-topic="distribution_test"]')?.getAttribute('data-peak') ?? 0) > 0, { timeout: DEADLINE });
      await page.waitForFunction((night) => document.querySelector(`#lag tr[data-night="${night}"]`)?.getAttribute('data-behind') === '0', { timeout: DEADLINE }, NIGHT);
      await page.waitForFunction(() => document.querySelector('#brokers li[data-broker]')?.getAttribute('class') === 'up', { timeout: DEADLINE });
      service.child.kill('SIGTERM');
      await service.exited;
      await page.waitForFunction(() => document.querySelector('#service-state')?.textContent === 'service not running', { timeout: DEADLINE });
    });
  });
});

function bandCounts(bands: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const b of bands) counts.set(b, (counts.get(b) ?? 0) + 1);
  return counts;
}

function prerequisiteSkipped(t: { skip(reason: string): void }): void {
  t.skip('no browser (see the first test)');
}
