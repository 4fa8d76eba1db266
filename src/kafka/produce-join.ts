// A Produce request's bytes joined into a buffer used again, rather than a new one per request.
// The client joins every request's pieces into one new buffer before writing it to the socket
// (Connection.send: the DynamicBuffer's `buffer`); for the distribution that is as many new bytes
// as it sends, half of the new buffers of a run, and V8 starts a full collection for each 64 MB of
// new buffers, whatever the heap holds (BENCHMARKS.md, Requests joined into buffers used again).
// Here the join of a request built by produce-request.ts goes into a buffer of a small pool, which
// takes the buffer back only once the broker has answered that request: an answer means the broker
// read every byte of it, so the socket is done with the buffer. A request that fails, times out or
// expects no answer keeps its buffer to itself, and the collector frees it as before.
// Workaround of @platformatic/kafka 2.12.1 (docs/architecture.md, Library workarounds): it can go
// once the client writes a request's pieces without joining them. It replaces the join of the
// client's DynamicBuffer for the requests it recognises (their first record batch's header, a
// buffer of their own), and leaves every other join as it was; test/kafka/produce-join.test.ts
// fails if the client no longer joins where this expects.
import { Writer } from '@platformatic/kafka';

/**
 * Requests smaller than this are joined as before. A wave of whole alerts (Rubin's 190 KB, ZTF's
 * 60 KB) is megabytes; a compressed wave of light alerts is about 160 KB, and its join is not what
 * V8 collects for (the light alerts' other buffers are small too), so it is left as it was.
 */
export const POOLED_FROM_BYTES = 256 * 1024;
/** Buffers are made in steps of this, so that requests of similar sizes share them. */
const STEP_BYTES = 1024 * 1024;
/** Free buffers kept, at most (a batch's waves are in flight at once, a few MB each). */
const FREE_KEPT = 8;
/** Bytes kept free, at most: a larger request's buffer is let go once answered. */
const FREE_KEPT_BYTES = 32 * 1024 * 1024;

/** One request's claim on a pooled buffer: filled when the client joins the request. */
export interface JoinClaim {
  buffer?: Buffer;
}

/** The free buffers, largest last. */
const free: Buffer[] = [];
let freeBytes = 0;

/** The request about to be joined: its marker (a piece only it holds) and its claim. */
let pending: { marker: Buffer; claim: JoinClaim } | undefined;

/** A buffer of at least `size` bytes: a free one if one is large enough, else a new one. */
function take(size: number): Buffer {
  joinCounts.pooled++;
  const at = free.findIndex((b) => b.length >= size);
  if (at < 0) return Buffer.allocUnsafeSlow(Math.ceil(size / STEP_BYTES) * STEP_BYTES);
  joinCounts.reused++;
  const [buffer] = free.splice(at, 1);
  freeBytes -= buffer!.length;
  return buffer!;
}

/** The broker answered the claim's request: its buffer serves another. */
export function releaseJoin(claim: JoinClaim): void {
  const buffer = claim.buffer;
  claim.buffer = undefined;
  if (buffer === undefined || free.length >= FREE_KEPT || freeBytes + buffer.length > FREE_KEPT_BYTES) return;
  const at = free.findIndex((b) => b.length > buffer.length);
  free.splice(at < 0 ? free.length : at, 0, buffer);
  freeBytes += buffer.length;
}

/** Joins made into pooled buffers, and how many of them were served by a free one: for the tests. */
export const joinCounts = { pooled: 0, reused: 0 };

/** The free buffers' sizes, for the tests. */
export function freeJoinBuffers(): number[] {
  return free.map((b) => b.length);
}

/**
 * The next join of a DynamicBuffer that holds `marker` goes into a pooled buffer, recorded in
 * `claim`. Called as a request's payload is built: the client joins it right after, in the same
 * turn (Connection.send), before any other request is built.
 */
export function expectJoin(marker: Buffer, claim: JoinClaim, size: number): void {
  pending = size >= POOLED_FROM_BYTES ? { marker, claim } : undefined;
}

interface Pieces {
  buffers: Buffer[];
  length: number;
}

let installed = false;

/** Routes the expected joins into the pool (once per process). */
export function installPooledJoin(): void {
  if (installed) return;
  const proto = Object.getPrototypeOf(Writer.create().dynamicBuffer) as object;
  const descriptor = Object.getOwnPropertyDescriptor(proto, 'buffer');
  const clientJoin = descriptor?.get;
  if (clientJoin === undefined) throw new Error("@platformatic/kafka's DynamicBuffer has no 'buffer' getter any more: the pooled join (src/kafka/produce-join.ts) must be looked at again");
  Object.defineProperty(proto, 'buffer', {
    ...descriptor,
    get(this: Pieces): Buffer {
      const expected = pending;
      if (expected === undefined || !this.buffers.includes(expected.marker)) return clientJoin.call(this) as Buffer;
      pending = undefined;
      const into = take(this.length);
      let at = 0;
      for (const piece of this.buffers) at += piece.copy(into, at);
      expected.claim.buffer = into;
      return into.subarray(0, this.length);
    },
  });
  installed = true;
}
