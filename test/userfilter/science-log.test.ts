// `fink filter test` on the science log (SCIENCE_STORE=kafka), with a real broker: the log written
// by the test's own writer (test/helpers/science-log.ts), some alerts twice as a commit whose
// answer was lost leaves them, and a record that is not an alert; the count of matching alerts
// against the condition's twin in plain JavaScript over the same simulated alerts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { kafkaClientOptions } from '../../src/kafka/client-options.ts';
import { loadConfig } from '../../src/config/config.ts';
import { scienceTopic } from '../../src/sciencedb/log-format.ts';
import type { NewAlert } from '../../src/sciencedb/store.ts';
import { runCli, testEnv } from '../helpers/cli.ts';
import { withTestCluster, type TestCluster } from '../helpers/kafka.ts';
import { createScienceLog, ScienceLogWriter, simulatedAlerts } from '../helpers/science-log.ts';

const PREFIX = 'uf_';
const NIGHT = '20260101';

interface TestAnswer {
  alerts: number;
  matched: number;
  notAlerts: number;
  shown: { id: string; object: string; night: string }[];
}

const num = (v: unknown): v is number => typeof v === 'number' && !Number.isNaN(v);

describe('fink filter test on the science log', () => {
  let cluster: TestCluster;
  let env: Record<string, string>;
  let ztf: NewAlert[];
  let lsst: NewAlert[];
  withTestCluster(async (started) => {
    cluster = started;
    env = { ...cluster.env, SCIENCE_STORE: 'kafka', SCIENCE_TOPIC_PREFIX: PREFIX, SCIENCE_PARTITIONS: '3' };
    const connection = kafkaClientOptions(loadConfig({ env: testEnv(env) }));
    await createScienceLog(connection, PREFIX, 3);
    ztf = simulatedAlerts(11, NIGHT, 300, 'ztf-light');
    lsst = simulatedAlerts(12, NIGHT, 200, 'lsst-light');
    const writer = new ScienceLogWriter(connection, PREFIX, 'userfilter-log-test', 3);
    try {
      await writer.write([...ztf, ...lsst], 100);
      // Written again, as a writer whose commit answer was lost writes a transaction once more.
      await writer.write(ztf.slice(0, 40), 100);
      await writer.writeRaw([{ topic: scienceTopic(PREFIX, 'ztf'), partition: 1, key: Buffer.from('x'), value: Buffer.from('not an alert') }]);
    } finally {
      await writer.close();
    }
  });

  test('every ZTF alert of the log counted once, the matches as the condition evaluated independently, a record that is not an alert named', () => {
    const run = runCli('fink', ['filter', 'test', '--survey', 'ztf', '--where', 'magpsf < 18 AND fid = 1', '--limit', '1000', '--json'], env);
    assert.equal(run.status, 0, run.stderr);
    const got = JSON.parse(run.stdout) as TestAnswer;
    const want = ztf.filter((a) => { const f = a.fields as unknown as Record<string, unknown>; return num(f.magpsf) && f.magpsf < 18 && f.fid === 1; });
    assert.ok(want.length > 0 && want.length < ztf.length);
    assert.equal(got.alerts, ztf.length, 'each alert once, the 40 written twice included');
    assert.equal(got.matched, want.length);
    assert.deepEqual(got.shown.map((s) => s.id).sort(), want.map((a) => String(a.alertId)).sort());
    assert.equal(got.notAlerts, 1);
    assert.match(run.stderr, new RegExp(`^fink: passed over a record that is not an alert: ${PREFIX}ztf/1@\\d+: not a science log record`));
  });

  test('Rubin alerts of the log, with --night', () => {
    const run = runCli('fink', ['filter', 'test', '--survey', 'lsst', '--where', 'reliability > 0.8 AND snr > 5', '--night', NIGHT, '--json'], env);
    assert.equal(run.status, 0, run.stderr);
    const got = JSON.parse(run.stdout) as TestAnswer;
    const want = lsst.filter((a) => { const f = a.fields as unknown as Record<string, unknown>; return num(f.reliability) && f.reliability > 0.8 && num(f.snr) && f.snr > 5; });
    assert.ok(want.length > 0 && want.length < lsst.length);
    assert.equal(got.alerts, lsst.length);
    assert.equal(got.matched, want.length);
    const other = runCli('fink', ['filter', 'test', '--survey', 'lsst', '--where', 'TRUE', '--night', '20250101', '--json'], env);
    assert.equal((JSON.parse(other.stdout) as TestAnswer).alerts, 0, 'no alert of another night');
  });
});
