// The records of the user filter usage topic (user-usage.ts), without a broker: their key, value
// and checks, and how they add up.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { QuotaLedger } from '../../src/distribution/user-quota.ts';
import { ledgerParts, parseUsage, sumUsage, usageKey, usageMessage, usageOf } from '../../src/distribution/user-usage.ts';

test('an instance is keyed by its id, and its group in group mode', () => {
  assert.equal(usageKey('dist-1', undefined), 'dist-1/single');
  assert.equal(usageKey('dist-a', 'g'), 'dist-a/group/g');
});

test("a record carries the ledger's bytes and alerts and reads back as written", () => {
  const usage = usageOf({ 'public/a/ztf': { '20261205': 700 } }, { 'public/a/ztf': { '20261205': 7 } });
  assert.deepEqual(usage, { 'public/a/ztf': { '20261205': { alerts: 7, bytes: 700 } } });
  const message = usageMessage('usage', 'dist-1/single', usage);
  assert.equal(message.key?.toString(), 'dist-1/single');
  assert.deepEqual(parseUsage(message.value!.toString()), usage);
  assert.deepEqual(ledgerParts(usage), { bytes: { 'public/a/ztf': { '20261205': 700 } }, alerts: { 'public/a/ztf': { '20261205': 7 } } });
});

test("a usage made again from the ledger's next views has every filter's counts as they are now", () => {
  const ledger = new QuotaLedger();
  ledger.admit('public/a/ztf', '20261205', 100, Infinity);
  ledger.admit('public/b/ztf', '20261205', 50, Infinity);
  ledger.commit();
  const before = usageOf(ledger.usage(), ledger.alerts());
  ledger.admit('public/a/ztf', '20261205', 10, Infinity);
  const after = usageOf(ledger.usage(), ledger.alerts());
  assert.deepEqual(after, { 'public/a/ztf': { '20261205': { alerts: 2, bytes: 110 } }, 'public/b/ztf': { '20261205': { alerts: 1, bytes: 50 } } });
  assert.deepEqual(before, { 'public/a/ztf': { '20261205': { alerts: 1, bytes: 100 } }, 'public/b/ztf': { '20261205': { alerts: 1, bytes: 50 } } }, 'the earlier usage is left as it was');
  const bytes = ledger.usage();
  assert.deepEqual(usageOf(bytes, {})['public/a/ztf'], { '20261205': { alerts: 0, bytes: 110 } });
  assert.deepEqual(usageOf(bytes, ledger.alerts())['public/a/ztf'], { '20261205': { alerts: 2, bytes: 110 } }, 'the same bytes with other alerts are made again');
  ledger.restore({ 'public/b/ztf': { '20261205': 70 } }, {});
  assert.deepEqual(usageOf(ledger.usage(), ledger.alerts()), { 'public/b/ztf': { '20261205': { alerts: 0, bytes: 70 } } }, 'a usage restored without its alerts counts none');
});

test('a value that is not a usage record says what is wrong', () => {
  assert.equal(parseUsage('{'), 'not JSON');
  assert.equal(parseUsage('[]'), 'not a JSON object');
  assert.equal(parseUsage('{"at":"now"}'), "no 'filters' object");
  assert.match(parseUsage('{"filters":{"public/a/ztf":{"20261205":{"alerts":-1,"bytes":3}}}}') as string, /'alerts' of "public\/a\/ztf" has "20261205": -1/);
  assert.match(parseUsage('{"filters":{"public/a/ztf":{"tonight":{"alerts":1,"bytes":3}}}}') as string, /has "tonight"/);
  assert.match(parseUsage('{"filters":{"public/a/ztf":{"20261205":{"alerts":1}}}}') as string, /'bytes' of "public\/a\/ztf"/);
});

test("the instances' records add up per filter and night", () => {
  const sum = sumUsage([
    { 'public/a/ztf': { '20261205': { alerts: 2, bytes: 20 } } },
    { 'public/a/ztf': { '20261205': { alerts: 3, bytes: 30 }, '20261206': { alerts: 1, bytes: 5 } }, 'public/b/lsst': { '20261205': { alerts: 1, bytes: 9 } } },
  ]);
  assert.deepEqual(sum, { 'public/a/ztf': { '20261205': { alerts: 5, bytes: 50 }, '20261206': { alerts: 1, bytes: 5 } }, 'public/b/lsst': { '20261205': { alerts: 1, bytes: 9 } } });
});
