// The console's HTTP server (node:http, nothing to build): the page and its script from console/,
// uPlot from node_modules, server-sent events for the live stream and the service panel, and one
// alert's detail, cutouts (PNG), and Avro file on request.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { encodeContainer } from '../avro/container.ts';
import { packageRoot } from '../config/config.ts';
import { FinkError } from '../errors.ts';
import { cutoutBytes, CUTOUT_KINDS, jsonFields, lightCurve, type CutoutKind } from './alert-view.ts';
import { cutoutPng } from './cutout-png.ts';
import { FitsError, readFits } from './fits.ts';
import type { ConsoleEvent, LiveConsole } from './live.ts';

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };

function assets(): Map<string, { file: string; type: string }> {
  const page = join(packageRoot(), 'console');
  const uplot = dirname(createRequire(import.meta.url).resolve('uplot/dist/uPlot.iife.min.js'));
  return new Map([
    ['/', { file: join(page, 'index.html'), type: TYPES['.html']! }],
    ['/app.js', { file: join(page, 'app.js'), type: TYPES['.js']! }],
    ['/style.css', { file: join(page, 'style.css'), type: TYPES['.css']! }],
    ['/vendor/uPlot.iife.min.js', { file: join(uplot, 'uPlot.iife.min.js'), type: TYPES['.js']! }],
    ['/vendor/uPlot.min.css', { file: join(uplot, 'uPlot.min.css'), type: TYPES['.css']! }],
  ]);
}

function send(res: ServerResponse, status: number, type: string, body: string | Uint8Array, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...extra });
  res.end(body);
}

function json(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, 'application/json', JSON.stringify(value));
}

function events(live: LiveConsole, req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
  // A page that cannot keep up is not fed more: what it missed is superseded by the next update.
  const unsubscribe = live.subscribe((event: ConsoleEvent) => {
    if (res.writableNeedDrain) return;
    res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
  });
  const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
  req.on('close', () => {
    clearInterval(ping);
    unsubscribe();
  });
}

function detail(live: LiveConsole, id: string, rest: string, res: ServerResponse): void {
  const alert = live.alert(id);
  if (alert === undefined) return json(res, 404, { error: `alert ${id} is no longer held by the console (it keeps the latest 500); search for it` });
  const record = live.decode(alert);
  if (rest === '') {
    const fields = jsonFields(Object.fromEntries(Object.entries(record).filter(([k]) => !k.startsWith('cutout'))));
    const cutouts = CUTOUT_KINDS.filter((kind) => cutoutBytes(alert.survey, record, kind) !== null);
    return json(res, 200, { id, origin: alert.origin, topic: alert.topic, row: alert.row, survey: alert.survey, schema: alert.schema.name, cutouts, lightCurve: lightCurve(alert.survey, record), fields });
  }
  if (rest === '/alert.avro') {
    const name = `${alert.row.object || 'alert'}-${alert.row.source || alert.id}.avro`.replace(/[^\w.-]/g, '_');
    return send(res, 200, 'application/avro', encodeContainer(alert.schema, [alert.value]), { 'content-disposition': `attachment; filename="${name}"` });
  }
  const cutout = /^\/cutout\/(science|template|difference)\.png$/.exec(rest);
  if (cutout !== null) {
    const kind = cutout[1] as CutoutKind;
    const bytes = cutoutBytes(alert.survey, record, kind);
    if (bytes === null) return json(res, 404, { error: `alert ${id} has no ${kind} cutout` });
    try {
      return send(res, 200, 'image/png', cutoutPng(readFits(bytes, `${alert.origin} ${kind} cutout`), kind));
    } catch (err) {
      if (err instanceof FitsError) return json(res, 422, { error: err.message });
      throw err;
    }
  }
  json(res, 404, { error: `no such view of an alert: ${rest}` });
}

function search(live: LiveConsole, query: string, res: ServerResponse): void {
  const q = query.trim();
  if (q === '') return json(res, 400, { error: 'give an objectId or a candid' });
  // Digits may be a candid, or an object id of a survey that numbers its objects (Rubin).
  const rows = /^\d{1,20}$/.test(q) ? [...live.search({ candid: BigInt(q) }), ...live.search({ objectId: q })] : live.search({ objectId: q });
  json(res, 200, { query: q, rows });
}

export function consoleServer(live: LiveConsole): Server {
  const files = assets();
  return createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://console');
    try {
      const asset = files.get(url.pathname);
      if (asset !== undefined) return send(res, 200, asset.type, readFileSync(asset.file));
      if (url.pathname === '/events') return events(live, req, res);
      if (url.pathname === '/api/search') return search(live, url.searchParams.get('q') ?? '', res);
      const alert = /^\/api\/alert\/([^/]+)(.*)$/.exec(url.pathname);
      if (alert !== null) return detail(live, decodeURIComponent(alert[1]!), alert[2]!, res);
      json(res, 404, { error: `nothing at ${url.pathname}` });
    } catch (err) {
      json(res, 500, { error: (err as Error).message });
    }
  });
}

/** Listens on host:port (0: a free port); resolves with the port, or names the port in use. */
export function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'EADDRINUSE' ? new FinkError(`port ${port} on ${host} is in use: choose another with --port or CONSOLE_PORT`) : err);
    });
    server.listen(port, host, () => {
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}
