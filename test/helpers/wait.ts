// Waiting on a condition, never on a machine's speed: polled until it holds or a generous deadline
// passes, and then a failure that says what was awaited.
import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitOptions {
  /** Milliseconds before giving up (default 120 s: a slow, loaded machine is still in time). */
  timeoutMs?: number;
  /** Milliseconds between two looks (default 50). */
  everyMs?: number;
}

/** Resolves with the first truthy value of `probe`; throws naming `what` (and `detail()`) at the deadline. */
export async function waitFor<T>(what: string, probe: () => T | Promise<T>, options: WaitOptions & { detail?: () => string } = {}): Promise<NonNullable<T>> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== null && value !== false) return value as NonNullable<T>;
    if (Date.now() >= deadline) throw new Error(`waited ${timeoutMs / 1000} s for ${what}${options.detail === undefined ? '' : `:\n${options.detail()}`}`);
    await sleep(options.everyMs ?? 50);
  }
}
