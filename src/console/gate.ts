// Who may ask the console anything, checked before any route: a request target that parses, a Host
// header that names this console (a page of another site that rebinds its DNS name to 127.0.0.1
// must not read it), and, when the console has a token, that token (a bearer header, or the cookie
// the login form sets). The headers every answer carries are here too.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { hostname, networkInterfaces } from 'node:os';

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  // Scripts and everything else from the console only; styles may be set inline (uPlot does); no framing.
  'content-security-policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

const COOKIE = 'fink_console';

/** The path and query of an origin-form request target (`/path?query`); undefined when it is malformed. */
export function parseTarget(raw: string | undefined): { pathname: string; searchParams: URLSearchParams } | undefined {
  // `//host:port/` would parse as another authority, an absolute form names another server.
  if (raw === undefined || !raw.startsWith('/') || raw.startsWith('//')) return undefined;
  try {
    const url = new URL(raw, 'http://console');
    decodeURIComponent(url.pathname);
    return { pathname: url.pathname, searchParams: url.searchParams };
  } catch {
    return undefined;
  }
}

/** `name` or `[v6]` as a Host header writes it. */
function hostName(host: string): string {
  const bare = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return bare.includes(':') ? `[${bare}]` : bare;
}

const WILDCARDS = new Set(['', '0.0.0.0', '[::]', '[0:0:0:0:0:0:0:0]']);

function ownNames(host: string): Set<string> {
  const names = new Set(['localhost', '127.0.0.1', '[::1]', hostName(host)]);
  // Bound to every address: the machine's own name and addresses are its names.
  if (WILDCARDS.has(hostName(host))) {
    names.add(hostname().toLowerCase());
    for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) names.add(hostName(a.address));
  }
  return names;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

export class Gate {
  readonly #names: Set<string>;
  readonly #token: Buffer | undefined;
  readonly #sessionValue: string | undefined;
  readonly #session: Buffer | undefined;

  constructor(options: { host: string; token: string | undefined }) {
    this.#names = ownNames(options.host);
    this.#token = options.token === undefined ? undefined : digest(options.token);
    // The cookie holds a value derived from the token, not the token itself.
    this.#sessionValue = options.token === undefined ? undefined : createHmac('sha256', options.token).update('fink console session').digest('hex');
    this.#session = this.#sessionValue === undefined ? undefined : digest(this.#sessionValue);
  }

  get hasToken(): boolean {
    return this.#token !== undefined;
  }

  /** Whether the Host header names this console, with the port the request came in on. */
  hostAllowed(header: string | undefined, localPort: number | undefined): boolean {
    if (header === undefined) return false;
    const match = /^(\[[^\]]*\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(header.trim());
    if (match === null || !this.#names.has(hostName(match[1]!))) return false;
    return match[2] === undefined ? localPort === 80 : Number(match[2]) === localPort;
  }

  /** Whether the request may be answered: no token configured, or the token given. */
  authorised(req: IncomingMessage): boolean {
    if (this.#token === undefined || this.#session === undefined) return true;
    const bearer = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (bearer !== undefined && this.tokenMatches(bearer.trim())) return true;
    const cookie = cookieValue(req.headers.cookie, COOKIE);
    return cookie !== undefined && timingSafeEqual(digest(cookie), this.#session);
  }

  /** Whether `given` is the token (the login form). */
  tokenMatches(given: string): boolean {
    return this.#token !== undefined && timingSafeEqual(digest(given), this.#token);
  }

  /** The Set-Cookie value after a good login: the page's script never sees it, no other site sends it. */
  sessionCookie(): string {
    return `${COOKIE}=${this.#sessionValue ?? ''}; HttpOnly; SameSite=Strict; Path=/`;
  }
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}
