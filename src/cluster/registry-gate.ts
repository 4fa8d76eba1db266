// The gate in front of a secured cluster's schema registry. Apicurio 2.4 checks credentials only
// through Keycloak (OIDC), a server of its own to run and to keep in step with the cluster's users;
// so in secured mode Apicurio listens on a private loopback port and this small HTTP proxy on the
// public one. It asks HTTP basic auth of every write (any method but GET and HEAD: registering a
// schema, setting a compatibility level, deleting) and, as DISTRIBUTION_REGISTRY_READS says, of reads
// or not. The credentials are the cluster's own SCRAM users, checked by its brokers (a SASL handshake):
// the gate keeps no secret, and a password changed with `fink_kafka --authentication` counts at once
// (a checked pair is remembered for CHECK_TTL_MS, as a digest). Writers are the super user and the
// distribution's user (GateSettings.writers). Nothing it logs holds a password or a header.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Connection } from '@platformatic/kafka';
import { closeQuietly, tlsConnection } from '../kafka/client-options.ts';
import { classifyKafkaError } from '../kafka/errors.ts';
import type { GateSettings } from './settings.ts';

/** What the gate process is given (a file in the registry's folder, its owner's only; no secret in it). */
export interface GateSpec extends GateSettings {
  host: string;
  port: number;
  /** Apicurio's private port, on 127.0.0.1. */
  upstreamPort: number;
}

/** How long a pair of credentials that the brokers accepted is taken without asking them again. */
const CHECK_TTL_MS = 60_000;
const CACHE_LIMIT = 1000;

/** Any method but GET and HEAD changes the registry. */
export const isWrite = (method: string | undefined): boolean => method !== 'GET' && method !== 'HEAD';

/** The user and password of a basic Authorization header, or undefined. */
export function basicCredentials(header: string | undefined): { username: string; password: string } | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (match === null) return undefined;
  const text = Buffer.from(match[1] as string, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon <= 0) return undefined;
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

/** Whether the cluster's brokers accept `username`/`password` (SCRAM-SHA-512); throws when none answers. */
export type CredentialCheck = (username: string, password: string) => Promise<boolean>;

export function brokerCheck(spec: Pick<GateSettings, 'servers' | 'tls'>): CredentialCheck {
  const tls = spec.tls === undefined ? undefined : tlsConnection(spec.tls);
  return async (username, password) => {
    let lastError: unknown;
    for (const server of spec.servers) {
      const colon = server.lastIndexOf(':');
      const connection = new Connection('fink-registry-gate', { sasl: { mechanism: 'SCRAM-SHA-512', username, password }, ...(tls === undefined ? {} : { tls }) });
      try {
        await connection.connect(server.slice(0, colon), Number(server.slice(colon + 1)));
        return true;
      } catch (err) {
        if (classifyKafkaError(err) === 'authentication') return false;
        lastError = err;
      } finally {
        await closeQuietly(connection);
      }
    }
    throw new Error(`no broker of ${spec.servers.join(',')} answered: ${lastError instanceof Error ? lastError.message : String(lastError)}`);
  };
}

/** `check`, remembering accepted pairs for CHECK_TTL_MS by a digest (never the password itself). */
function remembering(check: CredentialCheck): CredentialCheck {
  const accepted = new Map<string, number>();
  return async (username, password) => {
    const key = createHash('sha256').update(username).update('\0').update(password).digest('hex');
    if ((accepted.get(key) ?? 0) > Date.now()) return true;
    if (!(await check(username, password))) return false;
    if (accepted.size >= CACHE_LIMIT) accepted.clear();
    accepted.set(key, Date.now() + CHECK_TTL_MS);
    return true;
  };
}

/** An answer in the Confluent API's error shape. */
function refuse(req: IncomingMessage, res: ServerResponse, status: number, code: number, message: string): void {
  req.resume();
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (status === 401) headers['www-authenticate'] = 'Basic realm="fink schema registry", charset="UTF-8"';
  res.writeHead(status, headers).end(JSON.stringify({ error_code: code, message }));
}

/** Passes the request on to Apicurio, without the credentials, and its answer back. */
function forward(spec: GateSpec, req: IncomingMessage, res: ServerResponse): void {
  const headers = { ...req.headers, host: `127.0.0.1:${spec.upstreamPort}` };
  delete headers.authorization;
  const upstream = request({ host: '127.0.0.1', port: spec.upstreamPort, method: req.method, path: req.url, headers }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  upstream.on('error', () => (res.headersSent ? res.destroy() : refuse(req, res, 502, 50201, 'the schema registry behind the gate did not answer')));
  req.pipe(upstream);
}

/** Whether the request may pass; when not, it has been answered. */
async function admitted(spec: GateSpec, check: CredentialCheck, req: IncomingMessage, res: ServerResponse, log: (line: string) => void): Promise<boolean> {
  const write = isWrite(req.method);
  if (!write && spec.reads === 'open') return true;
  const what = write ? 'a write' : 'a read';
  const credentials = basicCredentials(req.headers.authorization);
  if (credentials === undefined) {
    refuse(req, res, 401, 40101, `${what} needs the credentials of a user of the cluster (HTTP basic auth)`);
    return false;
  }
  const { username, password } = credentials;
  let valid: boolean;
  try {
    valid = await check(username, password);
  } catch (err) {
    log(`could not check the credentials of ${username}: ${(err as Error).message}`);
    refuse(req, res, 503, 50301, 'the cluster that checks the credentials did not answer');
    return false;
  }
  if (!valid) {
    log(`refused ${req.method} ${req.url}: the cluster refused the credentials of ${username}`);
    refuse(req, res, 401, 40101, `the cluster refused the credentials of ${username}`);
    return false;
  }
  if (write && !spec.writers.includes(username)) {
    log(`refused ${req.method} ${req.url}: ${username} may not write`);
    refuse(req, res, 403, 40301, `${username} may read but not write (writers: ${spec.writers.join(', ')})`);
    return false;
  }
  return true;
}

export function gateServer(spec: GateSpec, check: CredentialCheck, log: (line: string) => void): Server {
  const remembered = remembering(check);
  return createServer((req, res) => {
    admitted(spec, remembered, req, res, log).then(
      (ok) => ok && forward(spec, req, res),
      () => refuse(req, res, 500, 50001, 'the gate failed'),
    );
  });
}

/** The gate process: serves until SIGTERM, from its spec file. */
export async function runGate(specFile: string): Promise<void> {
  const spec = JSON.parse(readFileSync(specFile, 'utf8')) as GateSpec;
  const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
  const server = gateServer(spec, brokerCheck(spec), log);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(spec.port, spec.host, () => resolve());
  });
  log(`gate on ${spec.host}:${spec.port} in front of 127.0.0.1:${spec.upstreamPort}; reads ${spec.reads}, writers ${spec.writers.join(', ')}`);
  process.once('SIGTERM', () => {
    log('stopping');
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
