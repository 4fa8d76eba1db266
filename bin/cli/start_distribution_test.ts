// `fink start distribution_test [--topic T] [--limit N] [--timeout S] [--out FILE]`
import { writeFileSync } from 'node:fs';
import { extname } from 'node:path';
import { commandArgs, intFlag } from '../../src/cli/args.ts';
import { FinkError, UsageError } from '../../src/errors.ts';
import { encodeContainer } from '../../src/avro/container.ts';
import { loadConfig } from '../../src/config/config.ts';
import { writeParquet } from '../../src/consumer/parquet.ts';
import { showMessage } from '../../src/consumer/messages.ts';
import { DecodeError, SchemaFileDecoder } from '../../src/consumer/schema-file-decoder.ts';
import { schemaFullName, SURVEY_NAMES, tableHeader, type Survey } from '../../src/consumer/table.ts';
import { readTopic } from '../../src/kafka/topic-reader.ts';
import type { RecordSchema } from '../../src/avro/schema.ts';
import { kafkaClientOptions } from '../../src/kafka/client-options.ts';
import { isUnreachable, unreachableMessage } from '../../src/kafka/errors.ts';

const USAGE = `usage: fink start distribution_test [--topic T] [--limit N] [--timeout S] [--rows R] [--out FILE] [--conf FILE]

Reads a topic from its beginning as a read_committed consumer, decodes every message with the
schema file whose fingerprint matches its key (written beside DISTRIBUTION_SCHEMA), and prints the
alerts as a table, then a summary: count, topic, schema fingerprints. ZTF and Rubin (LSST) alerts
have their own columns (the survey is read from the writer schema: Rubin's is a record
lsst.vX_Y.alert); a titled header starts the table and again wherever the survey changes.

  --topic T      the topic (default DISTRIBUTION_TEST_TOPIC, distribution_test)
  --limit N      wait for N alerts (following the topic) and stop there; exit 1 if fewer arrive
                 within --timeout (default: read what the topic holds now, then stop)
  --timeout S    seconds to wait with --limit (default 60)
  --rows R       table rows to print (default 20; 0 for none)
  --out FILE     save the alerts: FILE.avro as an Avro container file, FILE.parquet as Parquet
                 (through DuckDB); one file per schema (the others named FILE-<fingerprint>.ext)

A message that does not decode (a key that is not the writer schema, a value cut short or too
long, a count its bytes cannot hold, an alert without objectId) is reported on one line naming it
(topic/partition@offset), and the reading goes on; --limit counts the alerts decoded.

Exit status 1 if a message does not decode or --limit alerts did not arrive in time.
`;

export async function run(argv: string[]): Promise<number> {
  const args = commandArgs(argv, USAGE, {
    topic: { type: 'string' }, limit: { type: 'string' },
    timeout: { type: 'string' }, rows: { type: 'string' }, out: { type: 'string' },
  });
  if (args === undefined) return 0;
  const { values } = args;
  const limit = intFlag('limit', values.limit, 1);
  const timeout = intFlag('timeout', values.timeout, 1) ?? 60;
  const rows = intFlag('rows', values.rows, 0) ?? 20;
  const format = values.out === undefined ? undefined : extname(values.out);
  if (format !== undefined && format !== '.avro' && format !== '.parquet') throw new UsageError(`--out writes .avro or .parquet files, got '${values.out}'`);
  const config = loadConfig({ confFile: values.conf });
  const topic = values.topic ?? config.require('DISTRIBUTION_TEST_TOPIC');
  const decoder = new SchemaFileDecoder(config.require('DISTRIBUTION_SCHEMA'));
  const controller = new AbortController();
  const timer = limit === undefined ? undefined : setTimeout(() => controller.abort(), timeout * 1000);
  const perSchema = new Map<string, { count: number; schema: RecordSchema; survey: Survey; file: string; datums: Buffer[]; records: Record<string, unknown>[] }>();
  let count = 0;
  let bad = 0;
  const start = performance.now();
  const out = process.stdout;
  const connection = kafkaClientOptions(config);
  // A header waits for the first alert (a topic that cannot be read prints nothing but its error),
  // and comes again whenever the survey changes, since the two have different columns.
  let shownSurvey: Survey | undefined;
  try {
    for await (const message of readTopic(connection, topic, { follow: limit !== undefined, signal: controller.signal })) {
      let shown;
      try {
        shown = showMessage(decoder, topic, message);
      } catch (err) {
        if (!(err instanceof DecodeError)) throw err;
        process.stderr.write(`fink start distribution_test: ${err.message}\n`);
        bad++;
        continue;
      }
      const { schema, record, survey, row } = shown;
      let entry = perSchema.get(schema.fingerprint);
      if (entry === undefined) perSchema.set(schema.fingerprint, (entry = { count: 0, schema: schema.schema, survey, file: schema.file, datums: [], records: [] }));
      entry.count++;
      if (format === '.avro') entry.datums.push(message.value!);
      if (format === '.parquet') entry.records.push(record);
      if (count < rows) {
        if (survey !== shownSurvey) out.write(`${shownSurvey === undefined ? '' : '\n'}${tableHeader(survey)}\n`);
        shownSurvey = survey;
        out.write(row + '\n');
      }
      count++;
      if (limit !== undefined && count >= limit) break;
    }
  } catch (err) {
    if (isUnreachable(err)) throw new FinkError(unreachableMessage(connection.bootstrapBrokers, err), { code: 'FINK_KAFKA_UNREACHABLE' });
    throw err;
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
  if (count > rows && rows > 0) out.write(`... and ${count - rows} more\n`);
  const seconds = (performance.now() - start) / 1000;
  out.write(`\n${count} alerts read from topic ${topic} in ${seconds.toFixed(1)} s, ${bad === 0 ? 'all ' : ''}decoded with their schema files\n`);
  for (const [fingerprint, s] of perSchema) out.write(`  schema ${fingerprint} (${SURVEY_NAMES[s.survey]} ${schemaFullName(s.schema)}): ${s.count} alerts (${s.file})\n`);
  if (values.out !== undefined && format !== undefined) {
    let i = 0;
    for (const [fingerprint, s] of perSchema) {
      const file = i++ === 0 ? values.out : `${values.out.slice(0, -format.length)}-${fingerprint}${format}`;
      if (format === '.avro') writeFileSync(file, encodeContainer(s.schema, s.datums, { codec: 'deflate' }));
      else await writeParquet(file, s.schema, s.records);
      out.write(`  saved ${s.count} alerts to ${file}\n`);
    }
  }
  let status = 0;
  if (bad > 0) {
    process.stderr.write(`fink start distribution_test: ${bad} message${bad === 1 ? '' : 's'} of ${topic} could not be decoded (see above)\n`);
    status = 1;
  }
  if (limit !== undefined && count < limit) {
    process.stderr.write(`fink start distribution_test: only ${count} of ${limit} alerts arrived on ${topic} within ${timeout} s\n`);
    status = 1;
  }
  return status;
}
