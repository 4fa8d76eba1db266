// The console page, in Chromium, on a topic carrying both wire formats (issue 24): `fink start
// console` configured with DISTRIBUTION_SCHEMA_REGISTRY (a real Apicurio registry), real ZTF alerts
// written by the test as a fink message and as Confluent messages on a real broker after the page
// is open, and a Rubin sample as a Confluent message. Each shows as a row; the Confluent ZTF alert
// opens with its three cutouts decoded and its full candid in the fields.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'puppeteer-core';
import { parseAvroType, type RecordSchema } from '../../src/avro/schema.ts';
import { packageRoot } from '../../src/config/config.ts';
import { kafkaClientOptions } from '../../src/kafka/client-options.ts';
import { ensureTopic } from '../../src/kafka/topics.ts';
import { toConfluent } from '../helpers/confluent.ts';
import { haveLsstData, haveRealData } from '../helpers/data.ts';
import { distributionSetup, type DistributionSetup } from '../helpers/distribution.ts';
import { startTestCluster, type TestCluster } from '../helpers/kafka.ts';
import { startTestRegistry, type TestRegistry } from '../helpers/registry.ts';
import { lsstMessages, produceMessages, realMessages, schemasOf, writeSchemaFiles } from '../helpers/wire.ts';
import { launchChromium, startConsole, type ConsoleProcess } from './console-process.ts';

// The functions given to page.waitForFunction run in the browser; the project compiles without the
// DOM library, so the little they touch is declared here.
interface PageNode { textContent: string | null; getAttribute(name: string): string | null }
interface PageImage extends PageNode { complete: boolean; naturalWidth: number }
declare const document: { querySelector(selector: string): PageNode | null; querySelectorAll(selector: string): ArrayLike<PageNode> & Iterable<PageNode> };
const DEADLINE = 180_000;
const TOPIC = 'console_page_formats';

describe('the console page on fink and Confluent messages', { timeout: 900_000 }, () => {
  let cluster: TestCluster;
  let registry: TestRegistry;
  let setup: DistributionSetup;
  let consoleProcess: ConsoleProcess | undefined;
  let browser: Browser | undefined;
  let page: Page | undefined;

  before(async () => {
    cluster = await startTestCluster();
    registry = await startTestRegistry();
    setup = distributionSetup(cluster, { DISTRIBUTION_TEST_TOPIC: TOPIC, DISTRIBUTION_SCHEMA_REGISTRY: registry.url });
  });
  after(async () => {
    await browser?.close();
    await consoleProcess?.stop();
    await registry?.stop();
    await cluster?.stop();
  });

  test('rows of both formats appear; the Confluent ZTF alert opens with its cutouts and full candid', async (t) => {
    if (!haveRealData(t) || !haveLsstData(t)) return;
    browser = await launchChromium(t);
    if (browser === undefined) return;
    const ztf = realMessages().slice(0, 2);
    const rubin = lsstMessages()[1]!;
    const fink = [ztf[0]!, ztf[1]!, rubin];
    writeSchemaFiles(setup.schemaBase, schemasOf(fink));
    const { messages: confluent } = await toConfluent(registry.url, TOPIC, [ztf[1]!, rubin]);
    // The topic exists before the console follows it (empty), so every message comes after the page is live.
    await ensureTopic(kafkaClientOptions(setup.config, 'admin'), TOPIC, { partitions: 1, replicationFactor: 1 });
    consoleProcess = await startConsole(setup.env);
    page = await browser.newPage();
    const shown = page;
    try {
      await shown.goto(consoleProcess.url, { waitUntil: 'load' });
      await shown.waitForFunction(() => document.querySelector('#connection')?.textContent === 'live', { timeout: DEADLINE });
      await shown.waitForFunction((topic) => document.querySelector('#topics button.active')?.getAttribute('data-topic') === topic, { timeout: DEADLINE }, TOPIC);

      // ZTF alert 0 as fink, ZTF alert 1 and the Rubin sample as Confluent.
      await produceMessages(setup.config, TOPIC, [ztf[0]!, ...confluent]);
      const recordOf = (m: { key: Buffer; value: Buffer }) => parseAvroType(JSON.parse(m.key.toString()) as RecordSchema).fromBuffer(m.value) as Record<string, unknown>;
      const ids = [String(recordOf(ztf[0]!).candid), String(recordOf(ztf[1]!).candid), String(recordOf(rubin).diaSourceId)];
      for (const id of ids) {
        await shown.waitForFunction((c) => [...document.querySelectorAll('#rows td')].some((td) => td.textContent === c), { timeout: DEADLINE }, id);
      }

      const candid = ids[1]!;
      const rowId = await shown.$$eval('#rows tr[data-id]', (rows, c) => rows.find((r) => [...r.querySelectorAll('td')].some((td) => td.textContent === c))?.getAttribute('data-id') ?? null, candid);
      assert.equal(rowId, `${TOPIC}:0:1`, 'the Confluent alert\'s row');
      await shown.click(`#rows tr[data-id="${rowId}"]`);
      await shown.waitForFunction(() => {
        const images = [...document.querySelectorAll('#cutouts img') as unknown as PageImage[]];
        return images.length === 3 && images.every((i) => i.complete && i.naturalWidth === 63);
      }, { timeout: DEADLINE });
      const fields = await shown.$eval('#alert-fields', (e) => e.textContent ?? '');
      assert.match(fields, new RegExp(`"candid": "${candid}"`), 'the fields show the full 64-bit candid');
    } catch (err) {
      const dir = join(packageRoot(), 'var', 'test-artifacts');
      mkdirSync(dir, { recursive: true });
      await shown.screenshot({ path: join(dir, 'console-confluent.png'), fullPage: true }).catch(() => undefined);
      throw new Error(`${(err as Error).message}\n(console output:\n${consoleProcess.output()})`, { cause: err });
    }
  });
});
