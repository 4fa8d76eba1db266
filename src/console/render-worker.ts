// The thread that turns cutouts into PNGs (cutout-cache.ts starts it): decoding FITS and encoding a
// 1024x1024 PNG take a good fraction of a second, which the page's other requests must not wait for.
import { parentPort } from 'node:worker_threads';
import { cutoutPng } from './cutout-png.ts';
import { FitsError, readFits } from './fits.ts';

export interface RenderRequest {
  n: number;
  stamp: Uint8Array;
  kind: 'science' | 'template' | 'difference';
  where: string;
}

export type RenderReply = { n: number; png: Uint8Array } | { n: number; refused: string } | { n: number; failed: string };

parentPort?.on('message', (request: RenderRequest) => {
  let reply: RenderReply;
  try {
    const png = cutoutPng(readFits(request.stamp, request.where), request.kind);
    reply = { n: request.n, png };
  } catch (err) {
    reply = err instanceof FitsError ? { n: request.n, refused: err.message } : { n: request.n, failed: (err as Error).stack ?? String(err) };
  }
  parentPort!.postMessage(reply, 'png' in reply ? [reply.png.buffer as ArrayBuffer] : []);
});
