// `fink start distribution_test [--topic T] [--limit N] [--timeout S] [--out FILE]`
import { extname } from 'node:path';
import { commandArgs, intFlag } from '../../src/cli/args.ts';
import { UsageError } from '../../src/errors.ts';
import { loadConfig } from '../../src/config/config.ts';
import type { ShownMessage } from '../../src/consumer/messages.ts';
import { MessageDecoder } from '../../src/consumer/message-decoder.ts';
import { readBack, saveAlerts } from '../../src/consumer/read-back.ts';
import { schemaFullName, SURVEY_NAMES, tableHeader, type Survey } from '../../src/consumer/table.ts';
import { kafkaClientOptions, schemaRegistryUrl } from '../../src/kafka/client-options.ts';

const USAGE = `usage: fink start distribution_test [--topic T] [--limit N] [--timeout S] [--rows R] [--out FILE] [--conf FILE]

Reads a topic from its beginning as a read_committed consumer, decodes every message in its wire
format, and prints the alerts as a table, then a summary: count, topic, schema fingerprints. The two
formats may share a topic and are told apart per message: a key that is a JSON object is fink's
(the key is the writer schema; the value is decoded with the schema file of the same fingerprint,
written beside DISTRIBUTION_SCHEMA); otherwise a value starting with the byte 0 is Confluent's
(0, the schema id in 4 bytes, the datum; the id is resolved once through
DISTRIBUTION_SCHEMA_REGISTRY). ZTF and Rubin (LSST) alerts have their own columns (the survey is
read from the writer schema: Rubin's is a record lsst.vX_Y.alert); a titled header starts the table
and again wherever the survey changes.

  --topic T      the topic (default DISTRIBUTION_TEST_TOPIC, distribution_test)
  --limit N      wait for N alerts (following the topic) and stop there; exit 1 if fewer arrive
                 within --timeout (default: read what the topic holds now, then stop)
  --timeout S    seconds to wait with --limit (default 60)
  --rows R       table rows to print (default 20; 0 for none)
  --out FILE     save the alerts: FILE.avro as an Avro container file, FILE.parquet as Parquet
                 (through DuckDB); one file per schema (the others named FILE-<fingerprint>.ext)

A message that does not decode (a key that is not the writer schema, a value cut short or too
long, a count its bytes cannot hold, an alert without objectId; a schema id unknown to the
registry, a registry not set or not answering) is reported on one line naming it
(topic/partition@offset, and the schema id), and the reading goes on; --limit counts the alerts
decoded.

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
  const controller = new AbortController();
  const timer = limit === undefined ? undefined : setTimeout(() => controller.abort(), timeout * 1000);
  const start = performance.now();
  const out = process.stdout;
  // A header waits for the first alert (a topic that cannot be read prints nothing but its error),
  // and comes again whenever the survey changes, since the two have different columns.
  let shownSurvey: Survey | undefined;
  const onAlert = ({ survey, row }: ShownMessage, index: number) => {
    if (index >= rows) return;
    if (survey !== shownSurvey) out.write(`${shownSurvey === undefined ? '' : '\n'}${tableHeader(survey)}\n`);
    shownSurvey = survey;
    out.write(row + '\n');
  };
  const onBad = (err: Error) => process.stderr.write(`fink start distribution_test: ${err.message}\n`);
  let read;
  try {
    const decoder = new MessageDecoder(config.require('DISTRIBUTION_SCHEMA'), schemaRegistryUrl(config, 'read'));
    read = await readBack(kafkaClientOptions(config), topic, { decoder, limit, signal: controller.signal, keep: format, onAlert, onBad });
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
  const { perSchema, count, formats, bad } = read;
  if (count > rows && rows > 0) out.write(`... and ${count - rows} more\n`);
  const seconds = (performance.now() - start) / 1000;
  const how = formats.confluent === 0 ? 'decoded with their schema files'
    : formats.fink === 0 ? 'decoded with their schemas from the registry'
      : `decoded (${formats.fink} fink with their schema files, ${formats.confluent} Confluent with their schemas from the registry)`;
  out.write(`\n${count} alerts read from topic ${topic} in ${seconds.toFixed(1)} s, ${bad === 0 ? 'all ' : ''}${how}\n`);
  for (const [fingerprint, s] of perSchema) out.write(`  schema ${fingerprint} (${SURVEY_NAMES[s.survey]} ${schemaFullName(s.schema)}): ${s.count} alerts (${s.sources.join('; ')})\n`);
  if (values.out !== undefined && format !== undefined) await saveAlerts(perSchema, values.out, format, (file, n) => out.write(`  saved ${n} alerts to ${file}\n`));
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
