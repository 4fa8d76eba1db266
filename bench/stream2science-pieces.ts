// `node bench/stream2science-pieces.ts [ALERTS] [DIR] [WARM-UP] [ROUND]`: stream2science's own work on a
// Rubin alert, without Kafka: simulated lsst alerts framed as the simulator frames them (Confluent
// wire format), decoded as stream2science decodes a message (src/upstream/decode.ts) and stored in
// rounds of ROUND (45) with their positions (applyInOrder) into a fresh science database at DIR. Prints the
// CPU per alert of each piece (user + system, and the system part of storing) over ALERTS alerts
// after WARM-UP alerts not counted. Run it under `node --cpu-prof` to see where each piece goes;
// the live chain's figure (Kafka included) is `npm run bench -- --cases upstream`.
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeConfluent } from '../src/avro/confluent-wire.ts';
import { SchemaCache } from '../src/sciencedb/decode.ts';
import { createSimulation } from '../src/sciencedb/simulate.ts';
import { applyInOrder, type PositionedMessage } from '../src/sciencedb/positions.ts';
import { ScienceWriter } from '../src/sciencedb/store.ts';
import { decodeMessage, type Decoders } from '../src/upstream/decode.ts';
import type { RegistrySchemaCache } from '../src/upstream/schema-cache.ts';

const count = Number(process.argv[2] ?? 3000);
const dir = process.argv[3] ?? join(tmpdir(), 'fink-stream2science-pieces');
const warmUp = Number(process.argv[4] ?? 500);
const ROUND = Number(process.argv[5] ?? 45);

const sim = createSimulation({ profile: 'lsst', seed: 7, night: '20261126' });
let schemaJson = '';
const message = (): Buffer => {
  const a = sim.next();
  schemaJson = a.schemaJson;
  return encodeConfluent(1, a.datum);
};
// The registry's part is a cache hit in a running stream: its one schema, at hand.
const registry = { text: async () => schemaJson, peek: () => schemaJson } as unknown as RegistrySchemaCache;
const decoders: Decoders = { schemas: new SchemaCache(), registry };
rmSync(dir, { recursive: true, force: true });
const writer = new ScienceWriter(dir);

const cpu = (): { all: number; sys: number } => {
  const c = process.cpuUsage();
  return { all: (c.user + c.system) / 1000, sys: c.system / 1000 };
};
const spent = { decode: 0, store: 0, storeSys: 0, alerts: 0 };
for (let i = 0; i < count + warmUp; i += ROUND) {
  // Made before the clock starts: the simulator's work is not stream2science's.
  const values = Array.from({ length: ROUND }, message);
  const c0 = cpu();
  const messages: PositionedMessage[] = [];
  for (let j = 0; j < ROUND; j++) {
    const m = await decodeMessage('lsst', values[j]!, decoders);
    if ('reason' in m) throw new Error(m.reason);
    messages.push({ topic: 'lsst-alerts', partition: j % 12, next: BigInt(i + j + 1), alerts: m.alerts });
  }
  const c1 = cpu();
  applyInOrder(writer, messages, 0, () => '20261126');
  const c2 = cpu();
  if (i < warmUp) continue;
  spent.decode += c1.all - c0.all;
  spent.store += c2.all - c1.all;
  spent.storeSys += c2.sys - c1.sys;
  spent.alerts += ROUND;
}
writer.close();
const perAlert = (ms: number): number => Number((ms / spent.alerts).toFixed(3));
console.log(JSON.stringify({ alerts: spent.alerts, decode_cpu_ms_per_alert: perAlert(spent.decode), store_cpu_ms_per_alert: perAlert(spent.store), store_system_ms_per_alert: perAlert(spent.storeSys) }));
