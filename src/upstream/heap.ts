// stream2science's V8 heap setting. It turns over two new buffers the size of each alert (the
// socket's chunks, and the message the Kafka client copies out of them: 375 KB a Rubin alert, 90
// MB/s at Rubin's peak) and keeps about 20 MB of objects. V8 starts a full collection each time its
// heap and the buffers grow past the last collection's live size times a factor it picks from its
// own speeds (small here: the heap marks fast): for 10,000 Rubin alerts, 82 full collections (one
// every ~45 MB), each marking the whole heap, and a quarter of the process's CPU in the collector.
// At a fixed factor of 4 there were 11 to 22, and its CPU per alert fell by about a third
// (BENCHMARKS.md, stream2science's CPU); its peak RSS stayed about the same (263 MB, against 248
// to 258 MB before the CPU work), the old space still capped at 192 MB.
import { setFlagsFromString } from 'node:v8';

export const STREAM2SCIENCE_V8_FLAGS: readonly string[] = ['--heap-growing-percent=300'];

/** Process-wide; called once, by `fink start stream2science`, after the launcher's own flags. */
export function applyStream2ScienceHeapFlags(): void {
  for (const flag of STREAM2SCIENCE_V8_FLAGS) setFlagsFromString(flag);
}
