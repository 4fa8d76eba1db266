// A batch's messages split into waves, each at most one produce request per partition that stays
// under a byte budget, so that no request exceeds what a topic accepts and large requests (which
// gain nothing) are avoided. Order within a partition is kept across waves. Pure.
import type { Message } from '../kafka/transactional-session.ts';

/** Record batches stay under this, whatever the topic accepts. */
export const WAVE_BYTES = 900 * 1024;
/** What one record adds to its key and value in a record batch, at most (lengths, offsets, headers). */
export const RECORD_OVERHEAD_BYTES = 100;

function size(message: Message): number {
  return (message.key?.length ?? 0) + (message.value?.length ?? 0) + RECORD_OVERHEAD_BYTES;
}

/**
 * Waves of `messages`: each takes, from every partition's queue in order, messages while they fit
 * in min(waveBytes, the topic's limit); a message larger than the budget goes alone.
 */
export function planWaves(messages: readonly Message[], limitOf: (topic: string) => number, waveBytes = WAVE_BYTES): Message[][] {
  const queues = new Map<string, Message[]>();
  for (const m of messages) {
    const key = `${m.topic}/${m.partition}`;
    let queue = queues.get(key);
    if (queue === undefined) queues.set(key, (queue = []));
    queue.push(m);
  }
  const waves: Message[][] = [];
  const cursors = new Map([...queues.keys()].map((k) => [k, 0]));
  for (;;) {
    const wave: Message[] = [];
    for (const [key, queue] of queues) {
      let at = cursors.get(key)!;
      const budget = Math.min(waveBytes, limitOf(queue[0]!.topic) - RECORD_OVERHEAD_BYTES);
      let used = 0;
      while (at < queue.length) {
        const bytes = size(queue[at]!);
        if (used > 0 && used + bytes > budget) break;
        wave.push(queue[at]!);
        used += bytes;
        at++;
      }
      cursors.set(key, at);
    }
    if (wave.length === 0) return waves;
    waves.push(wave);
  }
}
