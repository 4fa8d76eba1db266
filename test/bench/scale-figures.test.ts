// The scale and visit cases' arithmetic (bench/scale-figures.ts): no broker needed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseInstances, percentile, scaleFigures } from '../../bench/scale-figures.ts';

test('the CPU per alert of each run, and its ratio to the one-instance run of the same profile', () => {
  const rows = [
    { profile: 'lsst', instances: 1, alerts: 5000, seconds: 10, cpu_s: 3 },
    { profile: 'lsst', instances: 3, alerts: 5000, seconds: 7, cpu_s: 3.3 },
    { profile: 'ztf-light', instances: 1, alerts: 20000, seconds: 8, cpu_s: 4 },
    { profile: 'ztf-light', instances: 2, alerts: 20000, seconds: 6, cpu_s: 5 },
  ];
  const figures = scaleFigures(rows, 0);
  assert.deepEqual(figures.map((f) => Number(f.cpu_per_alert_ms.toFixed(4))), [0.6, 0.66, 0.2, 0.25]);
  assert.deepEqual(figures.map((f) => Number(f.cpu_per_alert_vs_one!.toFixed(4))), [1, 1.1, 1, 1.25]);
});

test("the marginal CPU per alert: each instance's fixed CPU (an empty log's run) taken off before dividing", () => {
  const rows = [
    { profile: 'lsst', instances: 1, alerts: 1000, seconds: 5, cpu_s: 1.5 },
    { profile: 'lsst', instances: 3, alerts: 1000, seconds: 4, cpu_s: 2.6 },
  ];
  const [one, three] = scaleFigures(rows, 0.5);
  assert.equal(Number(one!.marginal_cpu_per_alert_ms.toFixed(4)), 1);
  assert.equal(Number(three!.marginal_cpu_per_alert_ms.toFixed(4)), 1.1);
  assert.equal(Number(three!.marginal_vs_one!.toFixed(4)), 1.1);
  assert.equal(Number(three!.cpu_per_alert_vs_one!.toFixed(4)), 1.7333);
});

test('without a one-instance run of its profile, a row has no ratio', () => {
  const [row] = scaleFigures([{ profile: 'lsst', instances: 2, alerts: 100, seconds: 1, cpu_s: 1 }], 0);
  assert.equal(row!.cpu_per_alert_vs_one, null);
  assert.equal(row!.marginal_vs_one, null);
  assert.equal(row!.cpu_per_alert_ms, 10);
});

test('the nearest-rank percentile: over five visits the p50 is the third, the p99 the slowest', () => {
  const visits = [9.1, 7.4, 12.8, 8.0, 8.6];
  assert.equal(percentile(visits, 0.5), 8.6);
  assert.equal(percentile(visits, 0.99), 12.8);
  assert.equal(percentile([5], 0.99), 5);
  assert.equal(percentile(Array.from({ length: 200 }, (_, i) => i + 1), 0.99), 198);
  assert.throws(() => percentile([], 0.5), /no values/);
});

test('--instances: distinct counts from 1 to the partitions, anything else refused with the flag named', () => {
  assert.deepEqual(parseInstances('1,2,3', 12), [1, 2, 3]);
  assert.deepEqual(parseInstances('3, 1,3', 12), [3, 1]);
  assert.throws(() => parseInstances('0,2', 12), /--instances .* from 1 to 12 .* got '0,2'/);
  assert.throws(() => parseInstances('13', 12), /--instances/);
  assert.throws(() => parseInstances('two', 12), /--instances/);
});
