// A transaction's messages split into waves, each at most one record batch per partition that
// stays under a byte budget (the topic's max.message.bytes, and a request size that gains nothing
// past it), so that no produce request is refused for its size. A partition's messages keep their
// order: its n-th wave is sent before its (n+1)-th. Pure.
import type { Message } from '../kafka/transactional-session.ts';

/** Record batches stay under this, whatever the topic accepts. */
export const WAVE_BYTES = 900 * 1024;
/** What one record adds to its key and value in a record batch, at most (lengths, offsets, timestamp). */
const RECORD_OVERHEAD_BYTES = 100;
/** A record batch's own header. */
const BATCH_OVERHEAD_BYTES = 100;

/**
 * Waves of `messages` (each with its partition): a partition's messages go, in order, into its
 * current wave while they fit in min(waveBytes, the topic's limit); a message larger than that
 * goes alone (the topic's limit is the writer's to choose: see log-settings.ts).
 */
export function planWaves(messages: readonly Message[], limitOf: (topic: string) => number, waveBytes = WAVE_BYTES): Message[][] {
  const waves: Message[][] = [];
  const current = new Map<string, { wave: number; bytes: number }>();
  for (const m of messages) {
    const key = `${m.topic}/${m.partition}`;
    const size = (m.key?.length ?? 0) + (m.value?.length ?? 0) + RECORD_OVERHEAD_BYTES;
    const budget = Math.min(waveBytes, limitOf(m.topic) - BATCH_OVERHEAD_BYTES);
    let at = current.get(key) ?? { wave: 0, bytes: 0 };
    if (at.bytes > 0 && at.bytes + size > budget) at = { wave: at.wave + 1, bytes: 0 };
    at.bytes += size;
    current.set(key, at);
    (waves[at.wave] ??= []).push(m);
  }
  return waves;
}
