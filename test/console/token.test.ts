// The console's token, against a real `fink start console`: bound beyond loopback it refuses to
// start without one; with one, every request without it gets 401, and the bearer header or the
// login form's cookie (HttpOnly, SameSite=Strict) opens it. Beyond loopback is tried on an address
// of this machine's own interfaces when it has one; the token check itself is the same on loopback.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { NODE_FLAGS } from '../../src/cli/runtime.ts';
import { packageRoot } from '../../src/config/config.ts';
import { testEnv } from '../helpers/cli.ts';
import { prerequisiteMissing } from '../helpers/prerequisites.ts';
import { startConsole, type ConsoleProcess } from './console-process.ts';
import { consoleEnv, openEvents, raw } from './raw-http.ts';

const TOKEN = 'a-token-for-the-test-0123456789';

function startFails(env: Record<string, string>): { status: number | null; output: string } {
  const result = spawnSync(process.execPath, [...NODE_FLAGS, join(packageRoot(), 'bin', 'fink.ts'), 'start', 'console', '--port', '0'], { env: testEnv(env), encoding: 'utf8', timeout: 120_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** An IPv4 address of this machine that is not loopback, if it has one (never an address elsewhere). */
function ownOuterAddress(): string | undefined {
  return Object.values(networkInterfaces()).flatMap((list) => list ?? []).find((a) => a.family === 'IPv4' && !a.internal)?.address;
}

test('bound beyond loopback without CONSOLE_TOKEN, the console refuses to start and says how to open it', () => {
  // The check comes before listening: nothing is bound, whatever the address.
  const host = ownOuterAddress() ?? '0.0.0.0';
  const { env } = consoleEnv({ CONSOLE_HOST: host });
  const { status, output } = startFails(env);
  assert.notEqual(status, 0);
  assert.ok(output.includes(`CONSOLE_HOST=${host} is not a loopback address: set CONSOLE_TOKEN`), output);
  assert.match(output, /ssh -L 8480:127\.0\.0\.1:8480/);
  assert.doesNotMatch(output, /fink console at/);
});

test('a CONSOLE_TOKEN too short to resist guessing is refused', () => {
  const { env } = consoleEnv({ CONSOLE_TOKEN: 'short' });
  const { status, output } = startFails(env);
  assert.notEqual(status, 0);
  assert.match(output, /CONSOLE_TOKEN is too short \(5 characters\)/);
  assert.doesNotMatch(output, /short\b.*short/, 'the token itself is not printed');
});

describe('a console with a token', { timeout: 300_000 }, () => {
  let consoleProcess: ConsoleProcess;
  let base: string;

  before(async () => {
    consoleProcess = await startConsole(consoleEnv({ CONSOLE_TOKEN: TOKEN }).env);
    base = consoleProcess.url.replace(/\/$/, '');
  });

  after(async () => {
    await consoleProcess?.stop();
  });

  test('every request without the token gets 401; the page asks for it with a form', async () => {
    for (const target of ['/', '/app.js', '/api/search?q=ZTF', '/api/alert/x', '/vendor/uPlot.iife.min.js']) assert.equal((await raw(base, target)).status, 401, target);
    assert.equal((await openEvents(base)).status, 401);
    const page = await raw(base, '/');
    assert.match(page.body, /<form id="login" method="post" action="\/login">/);
    assert.equal((await raw(base, '/', { headers: { authorization: 'Bearer not-the-token-at-all-000' } })).status, 401);
    assert.equal((await raw(base, '/', { headers: { cookie: 'fink_console=0000' } })).status, 401);
  });

  test('the bearer header opens every path', async () => {
    const authorization = `Bearer ${TOKEN}`;
    assert.equal((await raw(base, '/', { headers: { authorization } })).status, 200);
    assert.equal((await raw(base, '/api/search?q=ZTF', { headers: { authorization } })).status, 200);
    const events = await openEvents(base, { authorization });
    events.close();
    assert.equal(events.status, 200);
  });

  test('the login form sets an HttpOnly, SameSite=Strict cookie that opens the page; a wrong token gets the form again', async () => {
    const wrong = await raw(base, '/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'token=wrong-token-0123456789' });
    assert.equal(wrong.status, 401);
    assert.match(wrong.body, /Wrong token/);
    assert.equal(wrong.headers['set-cookie'], undefined);
    const good = await raw(base, '/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: TOKEN }).toString() });
    assert.equal(good.status, 303);
    assert.equal(good.headers.location, '/');
    const cookie = good.headers['set-cookie']?.[0] ?? '';
    assert.match(cookie, /; HttpOnly/);
    assert.match(cookie, /; SameSite=Strict/);
    assert.ok(!cookie.includes(TOKEN), 'the cookie holds a value derived from the token, not the token');
    const pair = cookie.split(';')[0]!;
    assert.equal((await raw(base, '/', { headers: { cookie: pair } })).status, 200);
    assert.equal((await raw(base, '/api/search?q=ZTF', { headers: { cookie: `other=1; ${pair}` } })).status, 200);
  });

  test('a foreign Host is refused before the token is asked', async () => {
    assert.equal((await raw(base, '/', { host: 'rebound.example', headers: { authorization: `Bearer ${TOKEN}` } })).status, 421);
  });
});

test('bound to an address of this machine beyond loopback, with its token, the console answers only with the token', { timeout: 300_000 }, async (t) => {
  const address = ownOuterAddress();
  if (address === undefined) {
    prerequisiteMissing(t, 'this machine has no address beyond loopback (the tests above check the token on loopback)');
    return;
  }
  const consoleProcess = await startConsole(consoleEnv({ CONSOLE_HOST: address, CONSOLE_TOKEN: TOKEN }).env);
  try {
    const base = consoleProcess.url.replace(/\/$/, '');
    assert.equal(new URL(base).hostname, address);
    assert.equal((await raw(base, '/')).status, 401);
    assert.equal((await raw(base, '/api/search?q=ZTF')).status, 401);
    assert.equal((await raw(base, '/api/search?q=ZTF', { headers: { authorization: `Bearer ${TOKEN}` } })).status, 200);
  } finally {
    await consoleProcess.stop();
  }
});
