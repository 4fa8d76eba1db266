// `npm run bench -- --console`: the throughput case with `fink start console` running and a
// headless Chromium showing its page, to measure what the console costs the distribution.
import { cpuSeconds } from './harness.ts';
import { waitFor } from '../test/helpers/wait.ts';
import { launchChromium, startConsole } from '../test/console/console-process.ts';

export interface ConsoleCost {
  console_cpu_s: number;
  /** Rows the page had received by the end (bounded by the console's sampling). */
  rows_pushed: number;
}

export async function withConsolePage<T>(env: Record<string, string>, body: () => Promise<T>): Promise<{ result: T; cost: ConsoleCost }> {
  const consoleProcess = await startConsole(env);
  const browser = await launchChromium(undefined);
  if (browser === undefined) throw new Error('--console needs Chromium (apt-get install -y chromium)');
  try {
    const page = await browser.newPage();
    let rows = 0;
    await page.exposeFunction('benchRows', (n: number) => (rows += n));
    await page.evaluateOnNewDocument(`{
      const Original = window.EventSource;
      window.EventSource = class extends Original {
        constructor(url) { super(url); this.addEventListener('alerts', (e) => window.benchRows(JSON.parse(e.data).rows.length)); }
      };
    }`);
    await page.goto(consoleProcess.url, { waitUntil: 'load' });
    await waitFor('the console page to be live', () => page.$eval('#connection', (e) => e.textContent === 'live'));
    const before = cpuSeconds(consoleProcess.child.pid!);
    const result = await body();
    return { result, cost: { console_cpu_s: cpuSeconds(consoleProcess.child.pid!) - before, rows_pushed: rows } };
  } finally {
    await browser.close();
    await consoleProcess.stop();
  }
}
