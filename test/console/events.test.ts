// The event stream's cost does not grow with its pages' work: one update is turned into text once,
// however many pages it goes to. A live state that only pushes (no Kafka, nothing read) feeds a
// real server and real HTTP clients.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import type { ConsoleEvent, LiveConsole } from '../../src/console/live.ts';
import { consoleServer } from '../../src/console/server.ts';
import { waitFor } from '../helpers/wait.ts';
import { openEvents } from './raw-http.ts';

test('an update going to several pages is serialised once', async () => {
  const listeners = new Set<(event: ConsoleEvent) => void>();
  // Only what the event stream asks of the live state.
  const pushing = {
    subscribe: (listener: (event: ConsoleEvent) => void) => {
      listener({ type: 'alerts', rows: [] });
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  } as unknown as LiveConsole;
  const server = consoleServer(pushing);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const pages = await Promise.all([1, 2, 3].map(() => openEvents(base)));
  try {
    await waitFor('three pages subscribed', () => listeners.size === 3);
    let serialised = 0;
    const rows = [{ toJSON: () => (serialised++, { n: 1 }) }];
    const update = { type: 'alerts', rows } as unknown as ConsoleEvent;
    for (const listener of listeners) listener(update);
    assert.equal(serialised, 1, 'one JSON.stringify for three pages');
  } finally {
    for (const page of pages) page.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});
