// The user-filters case's arithmetic (bench/user-filter-figures.ts): no broker needed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { interleaved, parseFilterCounts, userFilterFigures, type UserFilterRun } from '../../bench/user-filter-figures.ts';

const run = (filters: number, cpu_s: number, user_messages = 0): UserFilterRun => ({ filters, alerts: 1000, cpu_s, seconds: 10, messages: 1000, bytes: 5e6, user_messages, user_bytes: user_messages * 1000 });

test('--user-filters is a list of distinct counts, 0 allowed, in the order given', () => {
  assert.deepEqual(parseFilterCounts('0,100'), [0, 100]);
  assert.deepEqual(parseFilterCounts(' 100 , 0,100'), [100, 0]);
});

test('--user-filters refuses what is not a count, naming the flag and the value', () => {
  for (const bad of ['', '0,-1', '10x', '1.5', '0,,100']) assert.throws(() => parseFilterCounts(bad), new RegExp(`--user-filters .*got '${bad.replace('.', '\\.')}'`));
});

test('the runs interleave the counts, once each per repeat', () => {
  assert.deepEqual(interleaved([0, 100], 3).map((r) => `${r.repeat}:${r.filters}`), ['0:0', '0:100', '1:0', '1:100', '2:0', '2:100']);
});

test("each count's median CPU per alert, and its ratio to the runs without filters", () => {
  const runs = [run(0, 3), run(100, 3.3, 40), run(0, 2.8), run(100, 3.2, 40), run(0, 3.1), run(100, 3.6, 40)];
  const [none, hundred] = userFilterFigures([0, 100], runs);
  assert.equal(none!.runs, 3);
  assert.equal(Number(none!.cpu_per_alert_ms.toFixed(4)), 3);
  assert.equal(Number(hundred!.cpu_per_alert_ms.toFixed(4)), 3.3);
  assert.equal(Number(hundred!.cpu_vs_none!.toFixed(4)), 1.1);
  assert.equal(none!.cpu_vs_none, 1);
  assert.equal(hundred!.user_messages, 40);
  assert.equal(hundred!.user_mb, 0.04);
});

test('without runs of 0 filters, no ratio', () => {
  const [hundred] = userFilterFigures([100], [run(100, 3)]);
  assert.equal(hundred!.cpu_vs_none, null);
});

test("the second halves' CPU per alert and its ratio, when every run measured it; none otherwise", () => {
  const half = (r: UserFilterRun, steady_cpu_s: number): UserFilterRun => ({ ...r, steady_cpu_s, steady_alerts: 500 });
  const runs = [half(run(0, 3), 1.2), half(run(100, 3.3, 40), 1.26), half(run(0, 2.8), 1.0), half(run(100, 3.2, 40), 1.1), half(run(0, 3.1), 1.3), half(run(100, 3.6, 40), 1.4)];
  const [none, hundred] = userFilterFigures([0, 100], runs);
  assert.equal(Number(none!.steady_cpu_per_alert_ms!.toFixed(4)), 2.4);
  assert.equal(Number(hundred!.steady_cpu_per_alert_ms!.toFixed(4)), 2.52);
  assert.equal(Number(hundred!.steady_vs_none!.toFixed(4)), 1.05);
  // One run without the figure: the medians would mix what they measure.
  const [, partial] = userFilterFigures([0, 100], [...runs.slice(0, 5), run(100, 3.6, 40)]);
  assert.equal(partial!.steady_cpu_per_alert_ms, null);
  assert.equal(partial!.steady_vs_none, null);
});
