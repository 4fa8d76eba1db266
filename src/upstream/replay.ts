// `--replay-dead-letters`: the messages of the dead-letter files offered again once their cause is
// fixed (a schema registered late, a decoder fixed): each decoded again with its topic's format and
// its alerts stored. Exactly once without positions: the science database ignores an alert it holds
// (candid, diaSourceId), so a letter recorded twice, or replayed twice, is stored once; the science
// log keeps every write and distributes an alert once.
import type { AlertStore } from '../sciencedb/alert-store.ts';
import { SchemaCache } from '../sciencedb/decode.ts';
import { ScienceWriter } from '../sciencedb/store.ts';
import type { Logger } from '../log.ts';
import { deadLetterFile, readDeadLetters } from './dead-letters.ts';
import { decodeMessage, type Decoders } from './decode.ts';
import { RegistrySchemaCache } from './schema-cache.ts';
import { formatOf, type Stream2ScienceSettings } from './settings.ts';

export interface ReplaySummary {
  /** Distinct messages among the letters (one recorded twice counts once). */
  letters: number;
  stored: number;
  duplicates: number;
  /** Still do not decode. */
  failed: number;
  /** Recorded without their value (over the cap, or by an older version): cannot be replayed. */
  unkept: number;
}

/** `writer`: the science store that SCIENCE_STORE names (default: the SQLite nights at settings.scienceDbPath). */
export async function replayDeadLetters(settings: Stream2ScienceSettings, log: Logger, signal: AbortSignal, writer: AlertStore = new ScienceWriter(settings.scienceDbPath)): Promise<ReplaySummary> {
  const summary: ReplaySummary = { letters: 0, stored: 0, duplicates: 0, failed: 0, unkept: 0 };
  const decoders: Decoders = { schemas: new SchemaCache(), registry: new RegistrySchemaCache(settings.registry, settings.stateDir, { retries: 0, timeoutMs: settings.registryTimeoutMs, stopOnMisconfiguration: true, log, signal }) };
  const seen = new Set<string>();
  try {
    for (const letter of readDeadLetters(deadLetterFile(settings.stateDir))) {
      if (signal.aborted) break;
      const key = `${letter.topic}/${letter.partition}/${letter.offset}`;
      if (seen.has(key)) continue;
      seen.add(key);
      summary.letters++;
      const where = { topic: letter.topic, partition: letter.partition, offset: letter.offset };
      if (letter.value === undefined) {
        summary.unkept++;
        log('warn', 'dead letter without its message (over the cap when recorded): not replayed', { ...where, length: letter.valueLength });
        continue;
      }
      const format = formatOf(settings, letter.topic);
      const decoded = format === undefined ? { reason: 'its topic has no UPSTREAM_FORMAT entry' } : await decodeMessage(format, letter.value, decoders);
      if ('reason' in decoded) {
        summary.failed++;
        log('warn', 'dead letter still does not decode', { ...where, reason: decoded.reason });
        continue;
      }
      const inserted = await writer.write(decoded.alerts);
      summary.stored += inserted;
      summary.duplicates += decoded.alerts.length - inserted;
    }
  } finally {
    await writer.close();
  }
  return summary;
}
