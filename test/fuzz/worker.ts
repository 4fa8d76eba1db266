// A fuzz worker (child of run.ts): runs cases [from, to) of a seed through `fink ingest`'s code or
// the consumer's decoder, and prints one JSON line per case (its outcome, the peak memory so far).
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { showMessage } from '../../src/consumer/messages.ts';
import { DecodeError, SchemaFileDecoder } from '../../src/consumer/schema-file-decoder.ts';
import { ingestPaths } from '../../src/sciencedb/ingest.ts';
import { printable } from '../../src/printable.ts';
import { tempDir } from '../helpers/temp.ts';
import { peakRssMb } from '../helpers/hostile.ts';
import { schemasOf, writeSchemaFiles } from '../helpers/wire.ts';
import { ingestCase, messageCase, realMessagesOf, realSources } from './cases.ts';

export type Outcome = 'ok' | 'refused' | 'crash' | 'unclear';

export interface CaseLine {
  i: number;
  kind: string;
  outcome: Outcome;
  detail?: string;
  peakMb: number;
}

// A clear message is one line of text with no control characters (printable changes nothing).
const CLEAR = { test: (text: string) => text !== '' && printable(text) === text };

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message.slice(0, 300)} ${err.stack?.split('\n')[1]?.trim() ?? ''}` : String(err);
}

const [target, seedText, fromText, toText] = process.argv.slice(2);
const seed = Number(seedText);
const work = tempDir('fuzz');
const emit = (line: CaseLine) => process.stdout.write(`${JSON.stringify(line)}\n`);

try {
  if (target === 'ingest') {
    realSources();
    const file = join(work, 'case.avro');
    const db = join(work, 'db');
    for (let i = Number(fromText); i < Number(toText); i++) {
      const { kind, bytes } = ingestCase(seed, i);
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
  } else {
    const messages = realMessagesOf(realSources());
    const base = join(work, 'schemas', 'distribution_schema.avsc');
    writeSchemaFiles(base, schemasOf(messages));
    const decoder = new SchemaFileDecoder(base);
    for (let i = Number(fromText); i < Number(toText); i++) {
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
} finally {
  rmSync(work, { recursive: true, force: true });
}
