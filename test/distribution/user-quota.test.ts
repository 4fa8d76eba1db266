// The user filters' quota ledger (user-quota.ts) and its place in the checkpoint record.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCheckpoint } from '../../src/distribution/checkpoint.ts';
import { parseQuotaUsage, QuotaLedger } from '../../src/distribution/user-quota.ts';

test('a message that would take a filter past its quota of the night is refused and counted; another night has its own', () => {
  const ledger = new QuotaLedger();
  assert.equal(ledger.admit('public/a/ztf', '20261205', 600, 1000), true);
  assert.equal(ledger.admit('public/a/ztf', '20261205', 600, 1000), false);
  assert.equal(ledger.admit('public/a/ztf', '20261206', 600, 1000), true);
  assert.deepEqual(ledger.commit(), new Map([['public/a/ztf', 1]]));
  assert.deepEqual(ledger.usage(), { 'public/a/ztf': { '20261205': 600, '20261206': 600 } });
});

test('admissions of a batch given up are forgotten: the batch built again counts once', () => {
  const ledger = new QuotaLedger();
  ledger.admit('public/a/ztf', '20261205', 600, 1000);
  ledger.discard();
  assert.equal(ledger.admit('public/a/ztf', '20261205', 600, 1000), true);
  assert.deepEqual(ledger.commit(), new Map());
  assert.deepEqual(ledger.usage(), { 'public/a/ztf': { '20261205': 600 } });
});

test('a restored usage counts against the quota; the usage keeps the last two nights of each filter', () => {
  const ledger = new QuotaLedger();
  ledger.restore({ 'public/a/ztf': { '20261203': 5, '20261204': 10, '20261205': 900 } });
  assert.equal(ledger.admit('public/a/ztf', '20261205', 200, 1000), false);
  assert.deepEqual(ledger.usage(), { 'public/a/ztf': { '20261204': 10, '20261205': 900 } });
});

test('a checkpoint record carries the usage, an older one has none, and a malformed usage is named', () => {
  const base = { checkpoint: { '20261205': 3 }, stores: {}, alerts: 3, at: 'now' };
  assert.deepEqual((parseCheckpoint(JSON.stringify({ ...base, userBytes: { 'public/a/ztf': { '20261205': 7 } } })) as { userBytes: unknown }).userBytes, { 'public/a/ztf': { '20261205': 7 } });
  assert.equal('userBytes' in (parseCheckpoint(JSON.stringify(base)) as object), false);
  assert.match(parseCheckpoint(JSON.stringify({ ...base, userBytes: { 'public/a/ztf': { tonight: -1 } } })) as string, /'userBytes' of "public\/a\/ztf" has "tonight": -1/);
  assert.equal(typeof parseQuotaUsage([]), 'string');
});

test('the ledger counts the alerts admitted per filter and night, only once committed, and restores them', () => {
  const ledger = new QuotaLedger();
  ledger.admit('public/a/ztf', '20261205', 100, Infinity);
  ledger.admit('public/a/ztf', '20261205', 100, Infinity);
  ledger.discard();
  assert.deepEqual(ledger.alerts(), {});
  ledger.admit('public/a/ztf', '20261205', 100, Infinity);
  assert.equal(ledger.pending, true);
  ledger.commit();
  assert.equal(ledger.pending, false);
  ledger.admit('public/a/ztf', '20261205', 100, 150);
  assert.deepEqual(ledger.alerts(), { 'public/a/ztf': { '20261205': 1 } }, 'a refused message is not sent');
  ledger.restore({ 'public/a/ztf': { '20261205': 700 } }, { 'public/a/ztf': { '20261205': 7 } });
  ledger.admit('public/a/ztf', '20261205', 100, Infinity);
  assert.deepEqual(ledger.alerts(), { 'public/a/ztf': { '20261205': 8 } });
  assert.deepEqual(ledger.usage(), { 'public/a/ztf': { '20261205': 800 } });
});

test('a usage asked for a batch is what its commit counts, and a usage handed out stays as it was while later batches admit and commit', () => {
  const ledger = new QuotaLedger();
  ledger.admit('public/a/ztf', '20261205', 100, Infinity);
  ledger.admit('public/b/ztf', '20261205', 50, Infinity);
  const first = ledger.usage();
  const firstAlerts = ledger.alerts();
  assert.deepEqual(first, { 'public/a/ztf': { '20261205': 100 }, 'public/b/ztf': { '20261205': 50 } });
  ledger.admit('public/a/ztf', '20261205', 10, Infinity);
  assert.deepEqual(ledger.usage(), { 'public/a/ztf': { '20261205': 110 }, 'public/b/ztf': { '20261205': 50 } }, 'an admission after the question is in the next answer');
  ledger.commit();
  assert.deepEqual(ledger.usage(), { 'public/a/ztf': { '20261205': 110 }, 'public/b/ztf': { '20261205': 50 } });
  assert.deepEqual(ledger.alerts(), { 'public/a/ztf': { '20261205': 2 }, 'public/b/ztf': { '20261205': 1 } });
  ledger.admit('public/a/ztf', '20261206', 5, Infinity);
  ledger.commit();
  ledger.admit('public/a/ztf', '20261206', 5, Infinity);
  ledger.discard();
  assert.deepEqual(ledger.usage(), { 'public/a/ztf': { '20261205': 110, '20261206': 5 }, 'public/b/ztf': { '20261205': 50 } }, 'a discarded batch counts for nothing');
  assert.deepEqual(first, { 'public/a/ztf': { '20261205': 100 }, 'public/b/ztf': { '20261205': 50 } }, 'what was handed out did not change');
  assert.deepEqual(firstAlerts, { 'public/a/ztf': { '20261205': 1 }, 'public/b/ztf': { '20261205': 1 } });
});

test("in a group, the other instances' bytes count against the quota", () => {
  const ledger = new QuotaLedger();
  ledger.setOthers({ 'public/a/ztf': { '20261205': 900 } });
  assert.equal(ledger.admit('public/a/ztf', '20261205', 200, 1000), false);
  assert.equal(ledger.admit('public/a/ztf', '20261205', 100, 1000), true);
  assert.deepEqual(ledger.usage(), { 'public/a/ztf': { '20261205': 100 } }, "the instance's own usage only");
});

test('a checkpoint record carries the alerts sent too; a malformed count is named', () => {
  const base = { checkpoint: { '20261205': 3 }, stores: {}, alerts: 3, at: 'now', userBytes: { 'public/a/ztf': { '20261205': 7 } } };
  assert.deepEqual((parseCheckpoint(JSON.stringify({ ...base, userAlerts: { 'public/a/ztf': { '20261205': 2 } } })) as { userAlerts: unknown }).userAlerts, { 'public/a/ztf': { '20261205': 2 } });
  assert.match(parseCheckpoint(JSON.stringify({ ...base, userAlerts: { 'public/a/ztf': { '20261205': 1.5 } } })) as string, /'userAlerts' of "public\/a\/ztf" has "20261205": 1.5, not a night and a count/);
});
