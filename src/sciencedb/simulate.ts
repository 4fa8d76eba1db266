// `fink simulate`: realistic synthetic alerts, deterministic for a seed and a night, into the
// science database (either store) or as Avro files. The profile picks the generator: ZTF's (`ztf`, `ztf-light`) in
// simulate-ztf.ts, Rubin's (`lsst`, `lsst-light`) in simulate-lsst.ts.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeContainer } from '../avro/container.ts';
import { createLsstSimulation } from './simulate-lsst.ts';
import { createZtfSimulation } from './simulate-ztf.ts';
import { LSST_PROFILES, type LsstProfile, type Simulation, type SimulationOptions } from './simulation.ts';
import type { AlertStore } from './alert-store.ts';
import { ScienceWriter, type NewAlert } from './store.ts';

/** The generator of the options' profile. */
export function createSimulation(options: SimulationOptions): Simulation {
  return LSST_PROFILES.includes(options.profile as LsstProfile) ? createLsstSimulation(options) : createZtfSimulation(options);
}

const BATCH = 500;

/** The simulation's alerts in batches of BATCH, or fewer when they pass `batchBytes` of datums. */
function* batches(simulation: Simulation, count: number, batchBytes: number): Generator<{ batch: NewAlert[]; done: number }> {
  for (let done = 0; done < count; ) {
    const batch: NewAlert[] = [];
    let bytes = 0;
    for (; batch.length < BATCH && bytes < batchBytes && done < count; done++) {
      const alert = simulation.next();
      batch.push(alert);
      bytes += alert.datum.length + (alert.added?.datum.length ?? 0);
    }
    yield { batch, done };
  }
}

/** Simulates `count` alerts into the science database, in transactions of a few hundred. Returns how many were new. */
export function simulateIntoDb(dir: string, options: SimulationOptions, count: number, onProgress?: (done: number) => void): number {
  const writer = new ScienceWriter(dir);
  let inserted = 0;
  try {
    for (const { batch, done } of batches(createSimulation(options), count, Infinity)) {
      inserted += writer.write(batch);
      onProgress?.(done);
    }
  } finally {
    writer.close();
  }
  return inserted;
}

/**
 * Simulates `count` alerts into `store` (either store), in writes of a few hundred alerts and at
 * most `batchBytes` (the science log's transactions: Rubin alerts are large). The store is the
 * caller's to close. Returns how many were new.
 */
export async function simulateInto(store: AlertStore, options: SimulationOptions, count: number, batchBytes = Infinity, onProgress?: (done: number) => void): Promise<number> {
  let inserted = 0;
  for (const { batch, done } of batches(createSimulation(options), count, batchBytes)) {
    inserted += await store.write(batch);
    onProgress?.(done);
  }
  return inserted;
}

/** Simulates `count` alerts as Fink-enriched Avro files, one alert per file named after its candid. */
export function simulateIntoFiles(outDir: string, options: SimulationOptions, count: number, onProgress?: (done: number) => void): void {
  const simulation = createSimulation(options);
  mkdirSync(outDir, { recursive: true });
  for (let done = 0; done < count; done++) {
    const alert = simulation.next();
    const datum = Buffer.concat([alert.datum, alert.added!.datum]);
    writeFileSync(join(outDir, `${alert.alertId}.avro`), encodeContainer(simulation.fullSchema, [datum]));
    if (done % BATCH === 0) onProgress?.(done);
  }
  onProgress?.(count);
}
