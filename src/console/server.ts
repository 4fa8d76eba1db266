// The console's HTTP server (node:http, nothing to build): the page and its script from console/,
// uPlot from node_modules, server-sent events for the live stream and the service panel, and one
// alert's detail, cutouts (PNG), and Avro file on request. Every request first passes the gate
// (gate.ts); no request, however malformed, and no failure while answering ends the process.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { encodeContainer } from '../avro/container.ts';
import { packageRoot } from '../config/config.ts';
import { FinkError } from '../errors.ts';
import { cutoutBytes, CUTOUT_KINDS, jsonFields, lightCurve, type CutoutKind } from './alert-view.ts';
import { CutoutCache } from './cutout-cache.ts';
import { FitsError } from './fits.ts';
import { Gate, parseTarget, SECURITY_HEADERS } from './gate.ts';
import type { HeldAlert } from './held.ts';
import type { ConsoleEvent, LiveConsole } from './live.ts';
import { login, sendLoginForm } from './login.ts';

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

/** What the server needs beyond the live state: its name, its token, how many pages it feeds, where details go. */
export interface ServerOptions {
  host: string;
  token: string | undefined;
  maxClients: number;
  /** Where the detail of an internal error goes (the answer itself stays generic). */
  log: (line: string) => void;
}

const DEFAULTS: ServerOptions = { host: '127.0.0.1', token: undefined, maxClients: 16, log: (line) => process.stderr.write(`${line}\n`) };

// Each event is turned into text once, whatever the number of pages it goes to.
const framed = new WeakMap<ConsoleEvent, string>();
function frame(event: ConsoleEvent): string {
  let text = framed.get(event);
  if (text === undefined) framed.set(event, (text = `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`));
  return text;
}

function events(live: LiveConsole, req: IncomingMessage, res: ServerResponse, onClose: () => void): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
  // A page that cannot keep up is not fed more: what it missed is superseded by the next update.
  const write = (text: string) => {
    if (!res.writableNeedDrain && !res.destroyed) res.write(text);
  };
  const unsubscribe = live.subscribe((event: ConsoleEvent) => write(frame(event)));
  const ping = setInterval(() => write(': ping\n\n'), 15_000);
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    clearInterval(ping);
    unsubscribe();
    onClose();
  };
  req.on('close', close);
  res.on('close', close);
}

async function cutout(live: LiveConsole, cutouts: CutoutCache, alert: HeldAlert, kind: CutoutKind, res: ServerResponse): Promise<void> {
  // A cutout seen before costs no decoding of its alert (whose stamps may weigh megabytes).
  let png = cutouts.cached(alert.id, kind);
  if (png === undefined) {
    const bytes = cutoutBytes(alert.survey, live.decode(alert), kind);
    if (bytes === null) return json(res, 404, { error: `alert ${alert.id} has no ${kind} cutout` });
    png = await cutouts.render(alert.id, kind, bytes, `${alert.origin} ${kind} cutout`);
  }
  if (png instanceof FitsError) return json(res, 422, { error: png.message });
  send(res, 200, 'image/png', png);
}

async function detail(live: LiveConsole, cutouts: CutoutCache, id: string, rest: string, res: ServerResponse): Promise<void> {
  const alert = live.alert(id);
  if (alert === undefined) return json(res, 404, { error: `alert ${id} is no longer held by the console (it keeps the latest 500); search for it` });
  const kind = /^\/cutout\/(science|template|difference)\.png$/.exec(rest)?.[1] as CutoutKind | undefined;
  if (kind !== undefined) return cutout(live, cutouts, alert, kind, res);
  if (rest === '/alert.avro') {
    const name = `${alert.row.object || 'alert'}-${alert.row.source || alert.id}.avro`.replace(/[^\w.-]/g, '_');
    return send(res, 200, 'application/avro', encodeContainer(alert.schema, [alert.value]), { 'content-disposition': `attachment; filename="${name}"` });
  }
  if (rest !== '') return json(res, 404, { error: `no such view of an alert: ${rest}` });
  const record = live.decode(alert);
  const fields = jsonFields(Object.fromEntries(Object.entries(record).filter(([k]) => !k.startsWith('cutout'))));
  const kinds = CUTOUT_KINDS.filter((k) => cutoutBytes(alert.survey, record, k) !== null);
  json(res, 200, { id, origin: alert.origin, topic: alert.topic, row: alert.row, survey: alert.survey, schema: alert.schema.name, cutouts: kinds, lightCurve: lightCurve(alert.survey, record), fields });
}

function search(live: LiveConsole, query: string, res: ServerResponse): void {
  const q = query.trim();
  // 501: this console cannot answer it, whatever the query (the store, not the request, is why).
  const refused = live.searchRefused;
  if (refused !== null) return json(res, 501, { error: refused, store: 'kafka' });
  if (q === '') return json(res, 400, { error: 'give an objectId or a candid' });
  // Digits may be a candid, or an object id of a survey that numbers its objects (Rubin).
  const rows = /^\d{1,20}$/.test(q) ? [...live.search({ candid: BigInt(q) }), ...live.search({ objectId: q })] : live.search({ objectId: q });
  json(res, 200, { query: q, rows });
}

/** An error of the console itself: the detail to the log, a generic answer (no paths, no SQL) to the page. */
function fail(res: ServerResponse, err: unknown, req: IncomingMessage, log: (line: string) => void): void {
  log(`console: ${req.method ?? '?'} ${(req.url ?? '').slice(0, 200)} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  // Once the headers are out, the only honest answer left is to cut the connection.
  if (res.headersSent) res.destroy();
  else json(res, 500, { error: 'internal error of the console (its log has the detail)' });
}

export function consoleServer(live: LiveConsole, options: Partial<ServerOptions> = {}): Server {
  const settings = { ...DEFAULTS, ...options };
  const files = assets();
  const gate = new Gate(settings);
  const cutouts = new CutoutCache();
  let clients = 0;

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = parseTarget(req.url);
    if (target === undefined) return json(res, 400, { error: 'malformed request target' });
    if (!gate.hostAllowed(req.headers.host, req.socket.localPort)) return json(res, 421, { error: 'this console does not answer to that Host name' });
    if (target.pathname === '/login' && gate.hasToken) return login(gate, req, res);
    if (!gate.authorised(req)) return target.pathname === '/' ? sendLoginForm(res) : json(res, 401, { error: 'this console needs its token: Authorization: Bearer, or log in on its page' });
    const asset = files.get(target.pathname);
    if (asset !== undefined) return send(res, 200, asset.type, readFileSync(asset.file));
    if (target.pathname === '/events') {
      if (clients >= settings.maxClients) return json(res, 503, { error: `the console feeds ${settings.maxClients} pages at most (CONSOLE_MAX_CLIENTS); close one` });
      clients++;
      return events(live, req, res, () => clients--);
    }
    if (target.pathname === '/api/search') return search(live, target.searchParams.get('q') ?? '', res);
    const alert = /^\/api\/alert\/([^/]+)(.*)$/.exec(target.pathname);
    if (alert !== null) return detail(live, cutouts, decodeURIComponent(alert[1]!), alert[2]!, res);
    json(res, 404, { error: `nothing at ${target.pathname.slice(0, 200)}` });
  }

  const server = createServer((req, res) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    // A page gone mid-answer: its socket errors are its own, not the console's.
    res.on('error', () => undefined);
    route(req, res).catch((err: unknown) => fail(res, err, req, settings.log));
  });
  server.on('close', () => void cutouts.close());
  return server;
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
