// Cutouts a hostile or mistaken alert can carry, against a real `fink start console`: a stamp past
// 1024x1024 pixels or past a few MiB is refused with a clear answer; a 1024x1024 one is shown; and
// while large cutouts render, the page's other requests still answer within a second.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decode } from 'fast-png';
import { startConsole, type ConsoleProcess } from './console-process.ts';
import { bigStamp, consoleEnv, raw, storeAlertWithStamps } from './raw-http.ts';

// Generous (a slow, loaded machine) but meaningful: a page that waits a second per request is stuck.
const BOUND_MS = 1000;

describe('large cutouts', { timeout: 600_000 }, () => {
  let consoleProcess: ConsoleProcess;
  let base: string;
  const ids = new Map<string, string>();

  before(async () => {
    const { env, dbDir } = consoleEnv();
    const candids = {
      max: storeAlertWithStamps(dbDir, 101, bigStamp(1024, 1024)),
      wide: storeAlertWithStamps(dbDir, 102, bigStamp(1100, 1100)),
      huge: storeAlertWithStamps(dbDir, 103, bigStamp(3000, 3000)),
    };
    consoleProcess = await startConsole(env);
    base = consoleProcess.url.replace(/\/$/, '');
    for (const [name, candid] of Object.entries(candids)) {
      const found = JSON.parse((await raw(base, `/api/search?q=${candid}`)).body) as { rows: { id: string }[] };
      assert.equal(found.rows.length, 1, `the ${name} alert is found`);
      ids.set(name, encodeURIComponent(found.rows[0]!.id));
    }
  });

  after(async () => {
    await consoleProcess?.stop();
  });

  test('a cutout of 1024x1024 pixels is shown as a PNG of that size', async () => {
    const answer = await fetch(`${base}/api/alert/${ids.get('max')!}/cutout/science.png`);
    assert.equal(answer.status, 200);
    const png = decode(new Uint8Array(await answer.arrayBuffer()));
    assert.deepEqual([png.width, png.height], [1024, 1024]);
  });

  test('a cutout past 1024 pixels a side, or past a few MiB, is refused with a clear answer', async () => {
    const wide = await raw(base, `/api/alert/${ids.get('wide')!}/cutout/science.png`);
    assert.equal(wide.status, 422);
    assert.match(JSON.parse(wide.body).error, /science cutout: a FITS image of 1100x1100 pixels is refused \(the console shows cutouts of 1024x1024 at most\)/);
    const huge = await raw(base, `/api/alert/${ids.get('huge')!}/cutout/difference.png`);
    assert.equal(huge.status, 422);
    assert.match(JSON.parse(huge.body).error, /difference cutout: (a FITS stamp of \d+ bytes is refused|the gzipped FITS inflates past 9 MiB)/);
    assert.equal((await raw(base, '/')).status, 200);
  });

  test('while large cutouts render, the page\'s other requests answer within a second', async (t) => {
    let rendering = true;
    const kinds = ['science', 'template', 'difference'];
    // Two pages opening the large alerts again and again, as fast as the console answers.
    const load = async (page: number) => {
      for (let i = 0; rendering; i++) {
        const name = i % 2 === 0 ? 'huge' : 'max';
        await raw(base, `/api/alert/${ids.get(name)!}/cutout/${kinds[(i + page) % 3]!}.png`);
      }
    };
    const loads = [load(0), load(1)];
    const times: number[] = [];
    try {
      for (let i = 0; i < 40; i++) {
        const start = performance.now();
        const answer = await raw(base, '/api/search?q=ZTF26none');
        times.push(performance.now() - start);
        assert.equal(answer.status, 200);
      }
    } finally {
      rendering = false;
      await Promise.all(loads);
    }
    const worst = Math.max(...times);
    t.diagnostic(`slowest ${worst.toFixed(0)} ms, median ${times.sort((a, b) => a - b)[times.length >> 1]!.toFixed(0)} ms over ${times.length} requests`);
    assert.ok(worst < BOUND_MS, `the slowest of ${times.length} requests took ${worst.toFixed(0)} ms (all: ${times.map((t) => t.toFixed(0)).join(' ')})`);
  });
});
