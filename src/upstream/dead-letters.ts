// Messages that do not decode: each recorded as one JSON line (topic, partition, offset, reason)
// in the dead-letter file, and counted; the stream goes on. The record is written before the
// transaction that moves the partition past the message, so a crash in between records it twice,
// never not at all.
import { join } from 'node:path';
import { appendRecord } from '../files.ts';

export interface DeadLetter {
  topic: string;
  partition: number;
  offset: bigint;
  reason: string;
}

export function deadLetterFile(stateDir: string): string {
  return join(stateDir, 'dead-letters.jsonl');
}

export function recordDeadLetter(file: string, letter: DeadLetter): void {
  appendRecord(file, JSON.stringify({ time: new Date().toISOString(), topic: letter.topic, partition: letter.partition, offset: letter.offset.toString(), reason: letter.reason }) + '\n');
}
