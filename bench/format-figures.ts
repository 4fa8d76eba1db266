// The arithmetic of the wire-format case (bench/formats.ts, issue 24: the throughput against
// ProducerPerformance in `confluent` mode), apart from any broker so that a unit test holds it:
// the formats a run asks for, the size of a message in each, and the medians and ratios reported.
import { CONFLUENT_HEADER_BYTES } from '../src/avro/confluent-wire.ts';

export const WIRE_FORMATS = ['fink', 'confluent'] as const;
export type WireFormat = (typeof WIRE_FORMATS)[number];

/** `--format fink,confluent`: distinct formats, in the order given. */
export function parseFormats(flag: string): WireFormat[] {
  const out: WireFormat[] = [];
  for (const part of flag.split(',').map((s) => s.trim())) {
    if (!(WIRE_FORMATS as readonly string[]).includes(part)) throw new Error(`--format is a comma-separated list of ${WIRE_FORMATS.join(', ')}, got '${flag}'`);
    if (!out.includes(part as WireFormat)) out.push(part as WireFormat);
  }
  return out;
}

/**
 * The bytes of one message (key + value) as the service sends it: fink's key is the writer schema
 * as JSON, confluent's the object id, its value the header and the same datum.
 */
export function messageBytes(format: WireFormat, parts: { schemaJsonBytes: number; objectIdBytes: number; datumBytes: number }): number {
  return format === 'fink' ? parts.schemaJsonBytes + parts.datumBytes : parts.objectIdBytes + CONFLUENT_HEADER_BYTES + parts.datumBytes;
}

/** One service run of a format (bench/distribute.ts's line, with what the topic took on the brokers). */
export interface FormatRun {
  alerts: number;
  messages: number;
  /** Key + value of the community topic's messages. */
  bytes: number;
  seconds: number;
  cpu_s: number;
  log_bytes: number;
}

export interface FormatFigures {
  runs: number;
  /** Medians over the runs. */
  alerts_per_s: number;
  mb_per_s: number;
  cpu_per_alert_ms: number;
  bytes_per_message: number;
  log_bytes_per_alert: number;
  /** Against the median of ProducerPerformance's runs with records of this format's average size. */
  ratio_mb: number;
  ratio_records: number;
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export function formatFigures(runs: readonly FormatRun[], producer: readonly { records_per_s: number; mb_per_s: number }[]): FormatFigures {
  if (runs.length === 0 || producer.length === 0) throw new Error('no runs to report');
  const alerts_per_s = median(runs.map((r) => r.alerts / r.seconds));
  const mb_per_s = median(runs.map((r) => r.bytes / r.seconds / 1e6));
  return {
    runs: runs.length,
    alerts_per_s,
    mb_per_s,
    cpu_per_alert_ms: median(runs.map((r) => (r.cpu_s * 1000) / r.alerts)),
    bytes_per_message: median(runs.map((r) => r.bytes / r.messages)),
    log_bytes_per_alert: median(runs.map((r) => r.log_bytes / r.alerts)),
    ratio_mb: mb_per_s / median(producer.map((p) => p.mb_per_s)),
    ratio_records: alerts_per_s / median(producer.map((p) => p.records_per_s)),
  };
}
