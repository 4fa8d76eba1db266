// Requests as a hostile or careless client sends them: node:http with the target and the Host header
// exactly as given (fetch would normalise both), and the console started with a science database.
import { request, type IncomingHttpHeaders } from 'node:http';
import { gzipSync } from 'node:zlib';
import { parseAvroType } from '../../src/avro/schema.ts';
import { createSimulation, simulateIntoDb } from '../../src/sciencedb/simulate.ts';
import { ScienceWriter, type NewAlert } from '../../src/sciencedb/store.ts';
import { tempDir } from '../helpers/temp.ts';

export interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface RawRequest {
  method?: string;
  /** The Host header; the console's own address:port when not given. */
  host?: string;
  headers?: Record<string, string>;
  body?: string;
}

/** One request to `base` (http://address:port) with this exact target; resolves with the whole answer. */
export function raw(base: string, target: string, options: RawRequest = {}): Promise<RawAnswer> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: url.port, method: options.method ?? 'GET', path: target, setHost: false, headers: { host: options.host ?? url.host, ...options.headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Opens the event stream; resolves with its status and its text up to `until`, and a way to close it. */
export function openEvents(base: string, headers: Record<string, string> = {}, until = /event: /): Promise<{ status: number; first: string; close: () => void }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: '/events', headers }, (res) => {
      const close = () => req.destroy();
      if (res.statusCode !== 200) {
        res.resume();
        return resolve({ status: res.statusCode ?? 0, first: '', close });
      }
      let text = '';
      res.on('data', (c: Buffer) => {
        text += c.toString('utf8');
        if (until.test(text)) resolve({ status: 200, first: text, close });
      });
      res.on('end', () => resolve({ status: 200, first: text, close }));
    });
    req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
    req.end();
  });
}

/** The environment of a console that needs no Kafka (it reads from nowhere) and has a science database. */
export function consoleEnv(overrides: Record<string, string> = {}): { env: Record<string, string>; dbDir: string } {
  const root = tempDir('console-gate');
  const dbDir = `${root}/science`;
  simulateIntoDb(dbDir, { profile: 'ztf', seed: 7, night: '20261125' }, 5);
  const env = {
    DISTRIBUTION_SERVERS: '127.0.0.1:1',
    SCIENCE_DB_PATH: dbDir,
    DISTRIBUTION_SCHEMA: `${root}/schemas/distribution_schema.avsc`,
    DISTRIBUTION_STATE_DIR: `${root}/state`,
    DISTRIBUTION_ID: `console-test-${process.pid}`,
    ...overrides,
  };
  return { env, dbDir };
}

/** A FITS image of width x height BITPIX -32 pixels (a smooth ramp with some texture), gzipped as ZTF's stamps are. */
export function bigStamp(width: number, height: number): Buffer {
  const cards = ['SIMPLE  =                    T', 'BITPIX  =                  -32', 'NAXIS   =                    2', `NAXIS1  = ${String(width).padStart(20)}`, `NAXIS2  = ${String(height).padStart(20)}`, 'END'];
  const header = Buffer.from(cards.map((c) => c.padEnd(80)).join('').padEnd(2880), 'latin1');
  const data = Buffer.alloc(Math.ceil((width * height * 4) / 2880) * 2880);
  for (let i = 0; i < width * height; i++) data.writeFloatBE((i % width) + ((i * 7919) % 13), i * 4);
  return gzipSync(Buffer.concat([header, data]), { level: 1 });
}

/** Stores one simulated ZTF alert whose three cutouts are `stamp`; returns its candid. */
export function storeAlertWithStamps(dbDir: string, seed: number, stamp: Buffer): string {
  const sim = createSimulation({ profile: 'ztf', seed, night: '20261125' });
  const type = parseAvroType(sim.alertSchema);
  const alert = sim.next();
  const record = type.fromBuffer(Buffer.from(alert.datum)) as Record<string, unknown>;
  for (const key of ['cutoutScience', 'cutoutTemplate', 'cutoutDifference']) record[key] = { fileName: `${key}.fits.gz`, stampData: stamp };
  const writer = new ScienceWriter(dbDir);
  try {
    writer.write([{ ...alert, datum: new Uint8Array(type.toBuffer(record)) } satisfies NewAlert]);
  } finally {
    writer.close();
  }
  return String(record.candid);
}
