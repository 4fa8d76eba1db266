// Rendered cutouts kept per alert and kind: a page that opens an alert again, or several pages on
// the same alert, cost one rendering. Rendering happens on a worker thread (render-worker.ts), one
// cutout at a time, so the page's other requests never wait for it; a stamp refused (too large,
// not FITS) is remembered as such.
import { Worker } from 'node:worker_threads';
import { Lru } from '../lru.ts';
import { FitsError, oversizedStamp } from './fits.ts';
import type { RenderReply, RenderRequest } from './render-worker.ts';

// A 1024x1024 PNG is at most about a MiB; most are a few KB.
const KEPT = 64;

type Kind = RenderRequest['kind'];
type Result = Uint8Array | FitsError;

// Run from source the worker is the .ts file beside this one, built it is the .js file.
const WORKER = new URL(import.meta.url.endsWith('.ts') ? './render-worker.ts' : './render-worker.js', import.meta.url);

export class CutoutCache {
  readonly #pngs = new Lru<string, Result>(KEPT);
  readonly #rendering = new Map<string, Promise<Result>>();
  readonly #waiting = new Map<number, { resolve: (r: Result) => void; reject: (err: Error) => void }>();
  #worker: Worker | undefined;
  #next = 0;

  /** The cached PNG (or refusal) of an alert's cutout. */
  cached(alertId: string, kind: Kind): Result | undefined {
    return this.#pngs.get(`${alertId}\u0000${kind}`);
  }

  /** Renders an alert's cutout (once, however many ask at the same time) and keeps it. */
  render(alertId: string, kind: Kind, stamp: Uint8Array, where: string): Promise<Result> {
    const key = `${alertId}\u0000${kind}`;
    const cached = this.#pngs.get(key);
    if (cached !== undefined) return Promise.resolve(cached);
    let pending = this.#rendering.get(key);
    if (pending === undefined) {
      pending = this.#ask(stamp, kind, where).then((result) => {
        this.#pngs.set(key, result);
        return result;
      }).finally(() => this.#rendering.delete(key));
      this.#rendering.set(key, pending);
    }
    return pending;
  }

  #ask(stamp: Uint8Array, kind: Kind, where: string): Promise<Result> {
    // Refused here already: a stamp this large is not even copied to the worker.
    const big = oversizedStamp(stamp.length, where);
    if (big !== undefined) return Promise.resolve(big);
    const n = this.#next++;
    const copy = stamp.slice();
    return new Promise((resolve, reject) => {
      this.#waiting.set(n, { resolve, reject });
      this.#thread().postMessage({ n, stamp: copy, kind, where } satisfies RenderRequest, [copy.buffer]);
    });
  }

  #thread(): Worker {
    if (this.#worker !== undefined) return this.#worker;
    const worker = new Worker(WORKER, { resourceLimits: { maxOldGenerationSizeMb: 256 } });
    worker.unref();
    worker.on('message', (reply: RenderReply) => {
      const waiting = this.#waiting.get(reply.n);
      this.#waiting.delete(reply.n);
      if ('png' in reply) waiting?.resolve(reply.png);
      else if ('refused' in reply) waiting?.resolve(new FitsError(reply.refused));
      else waiting?.reject(new Error(`rendering a cutout failed: ${reply.failed}`));
    });
    // A worker that dies (out of memory) fails what it had; the next cutout starts a new one.
    const fail = (err: Error) => {
      if (this.#worker === worker) this.#worker = undefined;
      for (const { reject } of this.#waiting.values()) reject(err);
      this.#waiting.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the cutout renderer stopped (exit ${code})`)));
    this.#worker = worker;
    return worker;
  }

  /** Stops the renderer (the console stopping). */
  close(): Promise<number> | undefined {
    return this.#worker?.terminate();
  }
}
