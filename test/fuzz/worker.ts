// A fuzz worker (child of run.ts): runs cases [from, to) of a seed through `fink ingest`'s code, the
// consumer's decoder or stream2science's (its schemas from a local server speaking the registry's
// API), and prints one JSON line per case (its outcome, the peak memory so far).
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeConfluent } from '../../src/avro/confluent-wire.ts';
import { showMessage } from '../../src/consumer/messages.ts';
import { DecodeError, SchemaFileDecoder } from '../../src/consumer/schema-file-decoder.ts';
import { silentLogger } from '../../src/log.ts';
import { SchemaCache } from '../../src/sciencedb/decode.ts';
import { ingestPaths } from '../../src/sciencedb/ingest.ts';
import { printable } from '../../src/printable.ts';
import { decodeMessage } from '../../src/upstream/decode.ts';
import { RegistrySchemaCache, UnknownSchemaError } from '../../src/upstream/schema-cache.ts';
import { peakRssMb } from '../helpers/hostile.ts';
import { startSchemaServer } from '../helpers/schema-server.ts';
import { schemasOf, writeSchemaFiles } from '../helpers/wire.ts';
import { ingestCase, messageCase, realAlerts, realMessagesOf, realSources, rubinAlerts } from './cases.ts';
import { upstreamCase } from './upstream-cases.ts';

export type Outcome = 'ok' | 'refused' | 'crash' | 'unclear';

export interface CaseLine {
  i: number;
  kind: string;
  outcome: Outcome;
  detail?: string;
  peakMb: number;
  /** The worker process that ran the case (run.ts starts a fresh one every so many cases). */
  pid: number;
}

// A clear message is one line of text with no control characters (printable changes nothing).
const CLEAR = { test: (text: string) => text !== '' && printable(text) === text };

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message.slice(0, 300)} ${err.stack?.split('\n')[1]?.trim() ?? ''}` : String(err);
}

const [target, seedText, fromText, toText, folder] = process.argv.slice(2);
// run.ts makes the folder and removes it, whatever becomes of this process.
if (folder === undefined) throw new Error('usage: worker.ts TARGET SEED FROM TO FOLDER (run.ts starts the workers)');
const work: string = folder;
const seed = Number(seedText);
const emit = (line: Omit<CaseLine, 'pid'>) => process.stdout.write(`${JSON.stringify({ ...line, pid: process.pid })}\n`);

/**
 * For run.ts's own tests: FUZZ_STALL="i" stalls forever on case i (a real hang), "i:marker" only
 * while the marker file is absent, creating it (a case slow once, as on a loaded machine).
 */
function stallFor(i: number): void {
  const [at, marker] = (process.env.FUZZ_STALL ?? '').split(':');
  if (at === undefined || at === '' || Number(at) !== i) return;
  if (marker !== undefined) {
    if (existsSync(marker)) return;
    writeFileSync(marker, '');
  }
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
}

function runIngest(from: number, to: number): void {
  realSources();
  const file = join(work, 'case.avro');
  const db = join(work, 'db');
  for (let i = from; i < to; i++) {
    const { kind, bytes } = ingestCase(seed, i);
    stallFor(i);
    writeFileSync(file, bytes);
    let outcome: Outcome;
    let detail: string | undefined;
    try {
      const report = ingestPaths(db, [file]);
      const reason = report.failed[0]?.reason;
      if (reason === undefined) outcome = report.files === 1 ? 'ok' : 'unclear';
      else {
        detail = reason;
        outcome = report.failed[0]!.file === file && CLEAR.test(reason) ? 'refused' : 'unclear';
      }
    } catch (err) {
      outcome = 'crash';
      detail = describe(err);
    }
    emit({ i, kind, outcome, detail, peakMb: peakRssMb() });
  }
}

function runConsumer(from: number, to: number): void {
  const messages = realMessagesOf(realSources());
  const base = join(work, 'schemas', 'distribution_schema.avsc');
  writeSchemaFiles(base, schemasOf(messages));
  const decoder = new SchemaFileDecoder(base);
  for (let i = from; i < to; i++) {
    const { kind, message } = messageCase(seed, i, messages);
    let outcome: Outcome;
    let detail: string | undefined;
    try {
      const shown = showMessage(decoder, 'fuzz', { partition: 0, offset: BigInt(i), ...message });
      outcome = CLEAR.test(shown.row) ? 'ok' : 'unclear';
      if (outcome !== 'ok') detail = `row ${JSON.stringify(shown.row.slice(0, 200))}`;
    } catch (err) {
      detail = describe(err);
      outcome = err instanceof DecodeError && err.message.startsWith(`fuzz/0@${i}: `) && CLEAR.test(err.message) ? 'refused' : 'crash';
    }
    if (decoder.cachedKeys > 64) {
      outcome = 'crash';
      detail = `the key cache holds ${decoder.cachedKeys} entries`;
    }
    emit({ i, kind, outcome, detail, peakMb: peakRssMb() });
  }
}

/**
 * Each case with fresh caches (the registry cache keeps every text it was served, and each case
 * serves another): a reason is a refusal, an unknown schema id too (a per-message error); anything
 * else thrown would stop stream2science, so it is a crash.
 */
async function runUpstream(from: number, to: number): Promise<void> {
  const reals = realAlerts();
  const rubin = rubinAlerts();
  const served = new Map<number, string>();
  const server = await startSchemaServer(served);
  const state = join(work, 'upstream');
  try {
    for (let i = from; i < to; i++) {
      const c = upstreamCase(seed, i, reals, rubin);
      const id = 1000 + i;
      served.clear();
      if (c.served !== null) served.set(id, c.served);
      const decoders = { schemas: new SchemaCache(), registry: new RegistrySchemaCache(server.url, state, { retries: 0, log: silentLogger }) };
      let outcome: Outcome;
      let detail: string | undefined;
      try {
        const decoded = await decodeMessage(c.format, c.format === 'lsst' ? encodeConfluent(id, c.value) : c.value, decoders);
        if ('alerts' in decoded) outcome = 'ok';
        else {
          detail = decoded.reason;
          outcome = CLEAR.test(decoded.reason) ? 'refused' : 'unclear';
        }
      } catch (err) {
        detail = describe(err);
        outcome = err instanceof UnknownSchemaError && CLEAR.test(err.message) ? 'refused' : 'crash';
      }
      rmSync(join(state, 'schemas'), { recursive: true, force: true });
      emit({ i, kind: c.kind, outcome, detail, peakMb: peakRssMb() });
    }
  } finally {
    await server.close();
  }
}

const from = Number(fromText);
const to = Number(toText);
if (target === 'ingest') runIngest(from, to);
else if (target === 'consumer') runConsumer(from, to);
else await runUpstream(from, to);
