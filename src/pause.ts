// A wait that a stop cuts short: a service waiting out an outage or an idle poll must not hold
// a SIGTERM for 15 s. An abort ends the pause quietly; the caller looks at its signal.
import { setTimeout as sleep } from 'node:timers/promises';

/** Resolves after `ms`, or as soon as `signal` aborts (at once if it already has). */
export async function pause(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, { signal });
  } catch (err) {
    if (!(err instanceof Error && err.name === 'AbortError')) throw err;
  }
}
