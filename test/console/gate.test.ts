// The console as its operator's, against a real `fink start console` (no Kafka: it reads from
// nowhere) and node:http requests sent exactly as written: malformed targets and failures inside a
// request leave it serving, a foreign Host gets 421, every answer forbids framing and sniffing, the
// live pages are capped, and an internal error says nothing of paths or SQL.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { startConsole, type ConsoleProcess } from './console-process.ts';
import { waitFor } from '../helpers/wait.ts';
import { consoleEnv, openEvents, raw } from './raw-http.ts';

describe('the console, asked by a raw HTTP client', { timeout: 300_000 }, () => {
  let consoleProcess: ConsoleProcess;
  let base: string;

  before(async () => {
    const { env } = consoleEnv({ CONSOLE_MAX_CLIENTS: '2' });
    consoleProcess = await startConsole(env);
    base = consoleProcess.url.replace(/\/$/, '');
  });

  after(async () => {
    await consoleProcess?.stop();
  });

  test('a malformed request target gets 400 and the console keeps serving', async () => {
    for (const target of ['//a:99999999/', '/%', '/api/alert/%E0%A4%A', '//evil.example/']) {
      const answer = await raw(base, target);
      assert.equal(answer.status, 400, `${target}: ${answer.body}`);
    }
    assert.equal((await raw(base, '/')).status, 200, `the console still serves (its output: ${consoleProcess.output()})`);
    assert.equal(consoleProcess.child.exitCode, null);
  });

  test('a Host that is not the console\'s own name gets 421, for the page and the API alike', async () => {
    const port = new URL(base).port;
    for (const host of [`rebound.example:${port}`, 'rebound.example', `127.0.0.1:${Number(port) + 1}`, `127.0.0.1.nip.io:${port}`]) {
      for (const target of ['/', '/api/search?q=ZTF', '/events', '/app.js']) {
        const answer = await raw(base, target, { host });
        assert.equal(answer.status, 421, `Host ${host}, ${target}`);
      }
    }
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`]) assert.equal((await raw(base, '/', { host })).status, 200, `Host ${host}`);
    const empty = await raw(base, '/', { host: '' });
    assert.equal(empty.status, 421, 'an empty Host');
  });

  test('every answer forbids framing and content sniffing', async () => {
    for (const target of ['/', '/app.js', '/api/search?q=', '/nothing', '/%']) {
      const answer = await raw(base, target);
      assert.equal(answer.headers['x-content-type-options'], 'nosniff', target);
      assert.match(String(answer.headers['content-security-policy']), /frame-ancestors 'none'/, target);
    }
    const foreign = await raw(base, '/', { host: 'rebound.example' });
    assert.match(String(foreign.headers['content-security-policy']), /frame-ancestors 'none'/);
  });

  test('live pages past CONSOLE_MAX_CLIENTS get 503; a page that leaves makes room', async () => {
    const first = await openEvents(base);
    const second = await openEvents(base);
    try {
      assert.equal(first.status, 200);
      assert.equal(second.status, 200);
      assert.match(first.first, /event: /);
      const third = await openEvents(base);
      third.close();
      assert.equal(third.status, 503);
      first.close();
      // The console sees the first page leave a moment after its socket closes.
      const again = await waitFor('room for a page after the first left', async () => {
        const page = await openEvents(base);
        if (page.status === 200) return page;
        page.close();
        return undefined;
      });
      again.close();
      assert.equal(again.status, 200);
    } finally {
      first.close();
      second.close();
    }
  });
});

test('an internal error gets a generic 500 (no path, no SQL text) and the detail goes to the log', { timeout: 300_000 }, async () => {
  const { env, dbDir } = consoleEnv();
  // A night file that is not a database: the search fails inside SQLite.
  writeFileSync(`${dbDir}/20261126.sqlite`, 'not a database '.repeat(200));
  const consoleProcess = await startConsole(env);
  try {
    const base = consoleProcess.url.replace(/\/$/, '');
    const answer = await raw(base, '/api/search?q=ZTF26aaaaaaa');
    assert.equal(answer.status, 500);
    assert.deepEqual(JSON.parse(answer.body), { error: 'internal error of the console (its log has the detail)' });
    assert.doesNotMatch(answer.body, /sqlite|database|\//i);
    assert.match(consoleProcess.output(), /GET \/api\/search\?q=ZTF26aaaaaaa failed: .*not a database/);
    assert.equal((await raw(base, '/')).status, 200);
  } finally {
    await consoleProcess.stop();
  }
});

test('a service probe that throws (its pid file unreadable) while a page opens its event stream leaves the console serving', { timeout: 300_000 }, async () => {
  const { env } = consoleEnv();
  // The pid file's place taken by a folder: reading it fails, as a file removed between two reads does.
  mkdirSync(`${env.DISTRIBUTION_STATE_DIR}/${env.DISTRIBUTION_ID}.pid`, { recursive: true });
  const consoleProcess = await startConsole(env);
  try {
    const base = consoleProcess.url.replace(/\/$/, '');
    const events = await openEvents(base, {}, /event: service\ndata: .*\n\n/).catch((err: unknown) => ({ status: 0, first: String(err), close: () => undefined }));
    events.close();
    assert.equal(events.status, 200, events.first);
    assert.match(events.first, /"running":false/);
    assert.equal((await raw(base, '/')).status, 200, `the console still serves (its output: ${consoleProcess.output()})`);
  } finally {
    await consoleProcess.stop();
  }
});
