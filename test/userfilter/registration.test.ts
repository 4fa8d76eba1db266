// A registration's names, topic, key and JSON record, without a broker: what `fink filter add`
// accepts as names, and what a reader of the registrations topic trusts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeRegistration, nameProblem, parseRegistration, registrationKey, userTopic, type Registration } from '../../src/userfilter/registration.ts';

const good: Registration = { owner: 'alice', name: 'bright_g', survey: 'ztf', where: 'magpsf < 18', content: 'light', quotaMb: 20, created: '2026-12-05T03:00:00.000Z', topic: 'fink_u_alice_bright_g_ztf' };

test('names are a-z, 0-9 and _ (not first), within their lengths', () => {
  for (const ok of ['a', 'bright_g', '2026_sn', 'n'.repeat(48)]) assert.equal(nameProblem('name', ok), undefined, ok);
  for (const bad of ['', '_a', 'A', 'a-b', 'a.b', 'a/b', 'a b', 'é', 'n'.repeat(49), 'a\u0000']) assert.ok(nameProblem('name', bad) !== undefined, JSON.stringify(bad));
  assert.equal(nameProblem('owner', 'o'.repeat(32)), undefined);
  assert.match(nameProblem('owner', 'o'.repeat(33)) ?? '', /the owner is 33 characters long, at most 32/);
  assert.match(nameProblem('name', 'x\u001b[2J') ?? '', /'x\\x1b\[2J' may hold only/, 'control characters escaped');
});

test('the topic and the key of a filter', () => {
  assert.equal(userTopic('fink_u_', 'alice', 'bright_g', 'lsst'), 'fink_u_alice_bright_g_lsst');
  assert.equal(registrationKey('alice', 'bright_g', 'lsst'), 'alice/bright_g/lsst');
});

test('a registration reads back as written', () => {
  assert.deepEqual(parseRegistration('alice/bright_g/ztf', encodeRegistration(good)), good);
  assert.deepEqual(parseRegistration('alice/bright_g/ztf', encodeRegistration({ ...good, quotaMb: null })), { ...good, quotaMb: null });
});

test('a record that is not a registration says what is wrong with it', () => {
  const value = (patch: Record<string, unknown>) => Buffer.from(JSON.stringify({ ...good, ...patch }));
  const cases: [string, Buffer, RegExp][] = [
    ['alice/bright_g/ztf', Buffer.from('{'), /^not JSON$/],
    ['alice/bright_g/ztf', Buffer.from('[1]'), /^not a JSON object$/],
    ['alice/bright_g/ztf', value({ owner: 'Alice' }), /'owner'/],
    ['alice/bright_g/ztf', value({ name: '../x' }), /'name'/],
    ['alice/bright_g/ztf', value({ survey: 'sdss' }), /'survey'/],
    ['mallory/bright_g/ztf', value({}), /its key is not alice\/bright_g\/ztf/],
    ['alice/bright_g/ztf', value({ where: 3 }), /'where'/],
    ['alice/bright_g/ztf', value({ content: 'all' }), /'content'/],
    ['alice/bright_g/ztf', value({ quotaMb: -1 }), /'quotaMb'/],
    ['alice/bright_g/ztf', value({ topic: null }), /'topic'/],
  ];
  for (const [key, v, reason] of cases) {
    const parsed = parseRegistration(key, v);
    assert.equal(typeof parsed, 'string', v.toString());
    assert.match(parsed as string, reason);
  }
});
