// The wire-format case's arithmetic (bench/format-figures.ts): no broker needed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatFigures, messageBytes, parseFormats, type FormatRun } from '../../bench/format-figures.ts';

const run = (seconds: number, cpu_s: number, bytesPerMessage = 50_000): FormatRun => ({ alerts: 1000, messages: 1000, bytes: bytesPerMessage * 1000, seconds, cpu_s, log_bytes: 40_000 * 1000 });

test('--format is a list of distinct wire formats, in the order given', () => {
  assert.deepEqual(parseFormats('fink,confluent'), ['fink', 'confluent']);
  assert.deepEqual(parseFormats(' confluent , fink,confluent'), ['confluent', 'fink']);
});

test('--format refuses what is not a format, naming the flag and the value', () => {
  for (const bad of ['', 'fink,avro', 'fink,,confluent']) assert.throws(() => parseFormats(bad), new RegExp(`--format .*fink, confluent, got '${bad}'`));
});

test('a fink message is the schema as key and the datum; a confluent one the object id, 5 header bytes and the datum', () => {
  const parts = { schemaJsonBytes: 11_000, objectIdBytes: 12, datumBytes: 46_000 };
  assert.equal(messageBytes('fink', parts), 57_000);
  assert.equal(messageBytes('confluent', parts), 46_017);
});

test('the medians of the runs, and their ratios to the median ProducerPerformance run', () => {
  const runs = [run(10, 4), run(5, 3, 40_000), run(8, 5)];
  const pp = [{ records_per_s: 100, mb_per_s: 5 }, { records_per_s: 250, mb_per_s: 12.5 }, { records_per_s: 200, mb_per_s: 10 }];
  const f = formatFigures(runs, pp);
  assert.equal(f.runs, 3);
  assert.equal(f.alerts_per_s, 125);
  assert.equal(f.mb_per_s, 6.25);
  assert.equal(f.cpu_per_alert_ms, 4);
  assert.equal(f.bytes_per_message, 50_000);
  assert.equal(f.log_bytes_per_alert, 40_000);
  assert.equal(f.ratio_mb, 6.25 / 10);
  assert.equal(f.ratio_records, 125 / 200);
});

test('figures without runs are refused rather than reported as NaN', () => {
  assert.throws(() => formatFigures([], [{ records_per_s: 1, mb_per_s: 1 }]), /no runs/);
});
