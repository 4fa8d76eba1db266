// `node bench/wire-bytes.ts [--count N]`: the bytes of one message in each wire format, fink (the
// writer schema as key) and confluent (the object id as key, 5 bytes of header before the datum),
// for whole alerts and for a topic without cutouts: simulated ztf and lsst alerts (N of each), and
// the shared real alerts when present. First key + value as the record holds them, then on the
// wire: the record batches of the messages (one per partition, 3 partitions) with the topic's
// default compression (lz4 whole, zstd without cutouts), divided by the messages. Built with the
// distribution's own batch builder and record-batch encoder.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { buildBatch, type MessageFormat } from '../src/distribution/batch.ts';
import { WireSchemas } from '../src/distribution/wire.ts';
import { openReader, type StoredAlert } from '../src/sciencedb/reader.ts';
import { simulateIntoDb } from '../src/sciencedb/simulate.ts';
import { packageRoot } from '../src/config/config.ts';
import { encodeRecordBatch } from '../src/kafka/record-batch.ts';
import type { Message } from '../src/kafka/transactional-session.ts';

const CUTOUTS = ['cutoutScience', 'cutoutTemplate', 'cutoutDifference'];
const { values } = parseArgs({ options: { count: { type: 'string', default: '200' } } });
const count = Number(values.count);

/** Bytes per message in record batches (one per partition) compressed with `compression`. */
function onTheWire(messages: readonly Message[], compression: 'lz4' | 'zstd'): number {
  const byPartition = new Map<number, Message[]>();
  for (const m of messages) byPartition.set(m.partition ?? 0, [...(byPartition.get(m.partition ?? 0) ?? []), m]);
  let bytes = 0;
  for (const batch of byPartition.values()) bytes += encodeRecordBatch(batch.map((m) => ({ key: m.key ?? null, value: m.value ?? null })), { compression, transactional: true }).length;
  return bytes / messages.length;
}

function measure(label: string, dir: string): void {
  const reader = openReader(dir);
  try {
    const alerts: StoredAlert[] = reader.read({}, 1_000_000).alerts;
    const wire = new WireSchemas((id) => reader.schemaJson(id));
    for (const survey of ['ztf', 'lsst'] as const) {
      const mine = alerts.filter((a) => a.survey === survey);
      if (mine.length === 0) continue;
      for (const [topic, drop, compression] of [['whole', [], 'lz4'], ['no cutouts', CUTOUTS, 'zstd']] as const) {
        const target = { plan: { topic, filter: null, drop: [...drop] }, partitions: 3, maxMessageBytes: 1e9 };
        const row = (['fink', 'confluent'] as const).map((name) => {
          const format: MessageFormat = { confluent: () => name === 'confluent', idOf: () => 1 };
          const { messages } = buildBatch(mine, [target], wire, 'stop', format);
          const key = messages.reduce((s, m) => s + m.key!.length, 0) / messages.length;
          const value = messages.reduce((s, m) => s + m.value!.length, 0) / messages.length;
          return `${name} ${Math.round(key)} + ${Math.round(value)} = ${Math.round(key + value)} B, ${Math.round(onTheWire(messages, compression))} B ${compression}`;
        });
        process.stdout.write(`| ${label} | ${survey} | ${topic} | ${mine.length} | ${row.join(' | ')} |\n`);
      }
    }
  } finally {
    reader.close();
  }
}

process.stdout.write('| alerts | survey | topic | n | fink: key + value, in a batch | confluent: key + value, in a batch |\n|---|---|---|---|---|---|\n');
for (const profile of ['ztf', 'lsst'] as const) {
  const dir = mkdtempSync(join(tmpdir(), 'wire-bytes-'));
  simulateIntoDb(dir, { profile, seed: 7, night: '20261201' }, count);
  measure(`simulated ${profile}`, dir);
  rmSync(dir, { recursive: true, force: true });
}
const shared = resolve(packageRoot(), '..', 'shared', 'data');
if (existsSync(shared)) {
  const dir = mkdtempSync(join(tmpdir(), 'wire-bytes-'));
  const ingest = spawnSync(process.execPath, [join(packageRoot(), 'bin', 'fink.ts'), 'ingest', ...['ztf', 'fink', 'lsst'].map((d) => join(shared, d))], { env: { ...process.env, SCIENCE_DB_PATH: dir }, encoding: 'utf8' });
  if (ingest.status !== 0) throw new Error(`fink ingest failed: ${ingest.stderr}`);
  measure('shared real', dir);
  rmSync(dir, { recursive: true, force: true });
}
