// The console's login when it has a token: a form that asks for it once, and the cookie that then
// carries it (HttpOnly, SameSite=Strict). Scripts and API clients send `Authorization: Bearer`.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Gate } from './gate.ts';

// A token is tens of characters: a longer body is not a login.
const MAX_BODY = 4096;

function form(message: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>fink console: token</title></head>
<body><h1>fink console</h1><p id="login-message">${message}</p>
<form id="login" method="post" action="/login"><label>Token <input type="password" name="token" autocomplete="current-password" autofocus></label> <button>Open</button></form>
</body></html>
`;
}

/** The login form with a 401: what every request without the token gets when it asks for the page. */
export function sendLoginForm(res: ServerResponse, message = 'This console needs its token (CONSOLE_TOKEN).'): void {
  res.writeHead(401, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(form(message));
}

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        resolve(undefined);
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** POST /login: the right token sets the cookie and goes to the page; anything else is the form again. */
export async function login(gate: Gate, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'POST') return sendLoginForm(res);
  const body = await readBody(req);
  if (body === undefined) return sendLoginForm(res, 'That is not a token.');
  const token = new URLSearchParams(body).get('token') ?? '';
  if (!gate.tokenMatches(token)) return sendLoginForm(res, 'Wrong token.');
  res.writeHead(303, { location: '/', 'set-cookie': gate.sessionCookie(), 'cache-control': 'no-store' });
  res.end();
}
