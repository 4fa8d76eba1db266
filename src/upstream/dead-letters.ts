// Messages that do not decode: each recorded as one JSON line (topic, partition, offset, the
// error's code and reason, and the message itself: its value in base64 up to a cap, and its
// length) in the dead-letter file, and counted; the stream goes on. The record is written before
// the transaction that moves the partition past the message, so a crash in between records it
// twice, never not at all; a replay stores such a message once all the same (the science database
// ignores duplicates). The file is rotated at a size, a few old files kept, so a poisoned stream
// cannot fill the disk.
import { readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { appendRecord, ifExists } from '../files.ts';

export interface DeadLetter {
  topic: string;
  partition: number;
  offset: bigint;
  /** The error's code (FINK_DATUM, FINK_WIRE_FORMAT...): what kind of failure, for a script. */
  code: string;
  reason: string;
  /** The message's value (null: none). */
  value: Buffer | null;
}

/** A dead letter as read back from its file. */
export interface RecordedLetter {
  topic: string;
  partition: number;
  offset: string;
  code?: string;
  reason: string;
  valueLength?: number;
  /** The value, when it was within the cap. */
  value?: Buffer;
}

export interface DeadLetterLimits {
  /** A value longer than this is recorded by its length only. */
  maxValueBytes: number;
  /** The file is rotated before it would grow past this. */
  maxFileBytes: number;
  /** Rotated files kept (dead-letters.jsonl.1 ... .N). */
  keep: number;
}

// Real alerts are under 1 MiB (a Rubin alert with its cutouts: ~100 KB); 64 MiB holds hundreds
// of them, and 5 such files bound the whole at a few hundred MB.
const DEAD_LETTER_LIMITS: DeadLetterLimits = { maxValueBytes: 1 << 20, maxFileBytes: 64 << 20, keep: 5 };

export function deadLetterFile(stateDir: string): string {
  return join(stateDir, 'dead-letters.jsonl');
}

/** file.N-1 -> file.N ... file -> file.1; the oldest past `keep` removed. */
function rotate(file: string, keep: number): void {
  rmSync(`${file}.${keep}`, { force: true });
  for (let i = keep - 1; i >= 1; i--) ifExists(() => renameSync(`${file}.${i}`, `${file}.${i + 1}`));
  if (keep > 0) renameSync(file, `${file}.1`);
  else rmSync(file, { force: true });
}

export function recordDeadLetter(file: string, letter: DeadLetter, limits: DeadLetterLimits = DEAD_LETTER_LIMITS): void {
  const value = letter.value;
  const kept = value !== null && value.length <= limits.maxValueBytes ? value.toString('base64') : undefined;
  const line = JSON.stringify({
    time: new Date().toISOString(),
    topic: letter.topic,
    partition: letter.partition,
    offset: letter.offset.toString(),
    code: letter.code,
    reason: letter.reason,
    value_length: value?.length ?? 0,
    ...(kept === undefined ? {} : { value_base64: kept }),
  }) + '\n';
  const size = ifExists(() => statSync(file).size) ?? 0;
  if (size > 0 && size + Buffer.byteLength(line) > limits.maxFileBytes) rotate(file, limits.keep);
  appendRecord(file, line);
}

/** The dead letters recorded, oldest file first (rotated files, then the current one); lines that do not parse are skipped. */
export function readDeadLetters(file: string, keep = DEAD_LETTER_LIMITS.keep): RecordedLetter[] {
  const letters: RecordedLetter[] = [];
  for (const name of [...Array.from({ length: keep }, (_, i) => `${file}.${keep - i}`), file]) {
    const text = ifExists(() => readFileSync(name, 'utf8'));
    if (text === undefined) continue;
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      let raw: Record<string, unknown>;
      try {
        raw = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue; // a line torn by a crash
      }
      letters.push({
        topic: String(raw.topic),
        partition: Number(raw.partition),
        offset: String(raw.offset),
        code: typeof raw.code === 'string' ? raw.code : undefined,
        reason: String(raw.reason),
        valueLength: typeof raw.value_length === 'number' ? raw.value_length : undefined,
        value: typeof raw.value_base64 === 'string' ? Buffer.from(raw.value_base64, 'base64') : undefined,
      });
    }
  }
  return letters;
}
