// A child process for test/upstream/heap.test.ts: stream2science's churn without Kafka. 800 MB come
// through a loopback socket (the socket's own chunks, as a fetch response's), and each 190 KB is
// copied out as one message (as the Kafka client copies a record's value) and read into a few
// small objects, while about 10 MB of objects are kept. Prints the full collections V8 ran. With
// WITH_SETTING=1, stream2science's heap setting is applied first.
import { createConnection, createServer, type AddressInfo } from 'node:net';
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { applyV8RuntimeFlags } from '../../src/cli/runtime.ts';
import { applyStream2ScienceHeapFlags } from '../../src/upstream/heap.ts';

applyV8RuntimeFlags();
if (process.env.WITH_SETTING === '1') applyStream2ScienceHeapFlags();
let full = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if ((e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) full++;
}).observe({ entryTypes: ['gc'] });
const kept = Array.from({ length: 100_000 }, (_, i) => ({ i, name: `alert ${i}` }));

const TOTAL = 800 << 20;
const MESSAGE = 190_000;
const block = Buffer.alloc(1 << 20, 7);
const server = createServer((socket) => {
  let sent = 0;
  const more = (): void => {
    while (sent < TOTAL) {
      sent += block.length;
      if (!socket.write(block)) {
        socket.once('drain', more);
        return;
      }
    }
    socket.end();
  };
  more();
});
server.listen(0, '127.0.0.1', () => {
  const client = createConnection((server.address() as AddressInfo).port, '127.0.0.1');
  let chunks: Buffer[] = [];
  let have = 0;
  let read = 0;
  client.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    have += chunk.length;
    while (have >= MESSAGE) {
      const all = Buffer.concat(chunks);
      const message = Buffer.from(all.subarray(0, MESSAGE));
      read += Array.from({ length: 30 }, (_, j) => ({ j, v: message[j]! })).length;
      chunks = [all.subarray(MESSAGE)];
      have -= MESSAGE;
    }
  });
  client.on('end', () => setTimeout(() => {
    process.stdout.write(`${full} ${read > 0 && kept.length > 0 ? 'ok' : 'nothing read'}\n`);
    server.close();
  }, 200));
});
