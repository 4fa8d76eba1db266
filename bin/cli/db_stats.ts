// `fink db stats [--json]`
import { commandArgs } from '../../src/cli/args.ts';
import { loadConfig } from '../../src/config/config.ts';
import { dbStats } from '../../src/sciencedb/stats.ts';

const USAGE = `usage: fink db stats [--json] [--conf FILE]

What the science database at SCIENCE_DB_PATH holds: alerts in total, per survey (ztf, lsst) and
per night, the writer schemas with their top-level fields, and the size on disk. --json prints it as one JSON object.
`;

export async function run(argv: string[]): Promise<number> {
  const args = commandArgs(argv, USAGE, { json: { type: 'boolean' } });
  if (args === undefined) return 0;
  const { values } = args;
  const config = loadConfig({ confFile: values.conf });
  const stats = dbStats(config.require('SCIENCE_DB_PATH'));
  if (values.json === true) {
    process.stdout.write(JSON.stringify(stats, null, 2) + '\n');
    return 0;
  }
  const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
  const out = [`science database ${stats.path}`, `  ${stats.alerts} alerts, ${mb(stats.bytes)} on disk`];
  for (const [survey, n] of Object.entries(stats.surveys)) out.push(`  ${survey.padEnd(4)} ${String(n).padStart(9)} alerts`);
  if (stats.alerts > 0) out.push(`  ${(stats.bytes / stats.alerts / 1e3).toFixed(1)} KB per alert on disk`);
  out.push('nights:');
  for (const [night, n] of Object.entries(stats.nights)) {
    const surveys = Object.entries(n.surveys).map(([survey, count]) => `${survey} ${count}`).join(', ');
    out.push(`  ${night}  ${String(n.alerts).padStart(9)} alerts  ${mb(n.bytes).padStart(10)}  (${surveys || 'none'})`);
  }
  out.push('writer schemas:');
  for (const [id, s] of Object.entries(stats.schemas)) {
    out.push(`  ${id}  ${s.name}  ${s.alerts} alerts  ${s.fields.length} fields: ${s.fields.join(' ')}`);
  }
  process.stdout.write(out.join('\n') + '\n');
  return 0;
}
