// Ingests simulated alerts at a steady rate, for the latency measurement: `node bench/ingest-at-rate.ts
// DIR RATE SECONDS PROFILE SEED`. Each tick writes its share in one transaction; the store records
// when (ingested_ms), which is where an alert's latency starts.
import { setTimeout as sleep } from 'node:timers/promises';
import { createSimulation } from '../src/sciencedb/simulate.ts';
import type { ZtfProfile } from '../src/sciencedb/simulation.ts';
import { ScienceWriter } from '../src/sciencedb/store.ts';

const [dir, rateText, secondsText, profile, seedText] = process.argv.slice(2);
const rate = Number(rateText);
const seconds = Number(secondsText);
const tick = 100;
const perTick = Math.max(1, Math.round((rate * tick) / 1000));
const simulation = createSimulation({ profile: profile as ZtfProfile, seed: Number(seedText), night: '20261201' });
const writer = new ScienceWriter(dir!);
const start = performance.now();
let written = 0;
for (let t = 0; (t * tick) / 1000 < seconds; t++) {
  const due = start + t * tick;
  const wait = due - performance.now();
  if (wait > 0) await sleep(wait);
  const batch = Array.from({ length: perTick }, () => simulation.next());
  written += writer.write(batch);
}
writer.close();
process.stdout.write(JSON.stringify({ written, seconds: (performance.now() - start) / 1000 }) + '\n');
