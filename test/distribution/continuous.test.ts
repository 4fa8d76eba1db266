// A steady continuous run on a healthy broker aborts no transaction: alerts land in the science
// database at 300 a second for two minutes while the service distributes them.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { packageRoot } from '../../src/config/config.ts';
import { Metrics } from '../../src/distribution/metrics.ts';
import { runDistribution } from '../../src/distribution/service.ts';
import { distributionSettings } from '../../src/distribution/settings.ts';
import { decodeWithKey, distributionSetup, readAll, waitForCommitted } from '../helpers/distribution.ts';
import { withTestCluster, type TestCluster } from '../helpers/kafka.ts';

const RATE = 300;
const SECONDS = 120;

let cluster: TestCluster;
withTestCluster((started) => {
  cluster = started;
});

test(`a healthy broker and ${RATE} ztf alerts a second for ${SECONDS} s: no transaction aborted, every alert once`, async () => {
  const setup = distributionSetup(cluster, { DISTRIBUTION_POLL_MS: '200' });
  const ingest = spawn(process.execPath, [join(packageRoot(), 'bench', 'ingest-at-rate.ts'), setup.dbDir, String(RATE), String(SECONDS), 'ztf', '17'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let report = '';
  ingest.stdout.on('data', (d: Buffer) => (report += d.toString()));
  const ingested = new Promise<number>((resolve, reject) => ingest.on('exit', (code) => (code === 0 ? resolve((JSON.parse(report) as { written: number }).written) : reject(new Error(`ingest exited ${code}`)))));
  const metrics = new Metrics();
  const stop = new AbortController();
  const logs: string[] = [];
  const service = runDistribution(distributionSettings(setup.config), { signal: stop.signal, metrics, log: (level, message, fields) => logs.push(`${level} ${message} ${Object.entries(fields ?? {}).map(([k, v]) => `${k}=${String(v)}`).join(' ')}`) });
  try {
    const written = await ingested;
    assert.ok(written >= RATE * SECONDS * 0.99, `ingested ${written}`);
    assert.equal(await waitForCommitted(setup, written, 300_000), written, logs.join('\n'));
  } finally {
    stop.abort();
    await service;
    rmSync(join(setup.dbDir, '..'), { recursive: true, force: true });
  }
  assert.equal(metrics.transactionsAborted, 0, `aborted transactions:\n${logs.filter((l) => l.startsWith('warn')).join('\n')}`);
  // A coordinator still settling on the new cluster may delay the first session; nothing else may fail.
  assert.deepEqual(logs.filter((l) => l.startsWith('warn')), []);
  const candids = (await readAll(setup.config, 'distribution_test')).map((m) => decodeWithKey(m).candid);
  assert.equal(new Set(candids).size, candids.length, 'no alert twice');
  assert.equal(candids.length, metrics.alerts);
});
