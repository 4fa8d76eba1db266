// `fink simulate --count N [--survey ztf|lsst] [--profile P] [--seed S] [--night YYYYMMDD] [--out DIR]`
import { commandArgs, intFlag } from '../../src/cli/args.ts';
import { UsageError } from '../../src/errors.ts';
import { progress } from '../../src/cli/progress.ts';
import { loadConfig } from '../../src/config/config.ts';
import { SURVEYS, type Survey } from '../../src/alert/survey.ts';
import { simulateInto, simulateIntoFiles } from '../../src/sciencedb/simulate.ts';
import { createdLine, openStore } from '../../src/sciencedb/open-store.ts';
import { simulationOptions } from '../../src/cli/simulation-options.ts';

const USAGE = `usage: fink simulate --count N [--survey ztf|lsst] [--profile P] [--seed S] [--night YYYYMMDD] [--out DIR] [--conf FILE]

Synthetic ZTF alerts (schema 4.02) or Rubin alerts (schema lsst.v10_0) with Fink-style added
values, into the science database at SCIENCE_DB_PATH (with SCIENCE_STORE=kafka: the science log on
the cluster at DISTRIBUTION_SERVERS, in Kafka transactions), or with --out as Avro files in DIR (one
alert per file, the added values as trailing fields, as Fink distributes them).

  --count N        how many alerts (required)
  --survey S       ztf (default) or lsst
  --profile P      ztf: history and three gzipped FITS cutouts, about 45 KB per alert (default for ztf)
                   ztf-light: no cutouts and no history, under 1 KB
                   lsst: up to a few hundred previous sources and forced sources, three plain
                     FITS cutouts, about 150 to 200 KB per alert (default for lsst)
                   lsst-light: no cutouts and no history, about 2 KB
  --seed S         the same seed and night give the same alerts (default 1)
  --night D        the night, YYYYMMDD (default: today, UTC)
`;

export async function run(argv: string[]): Promise<number> {
  const args = commandArgs(argv, USAGE, {
    count: { type: 'string' }, survey: { type: 'string' }, profile: { type: 'string' },
    seed: { type: 'string' }, night: { type: 'string' }, out: { type: 'string' },
  });
  if (args === undefined) return 0;
  const { values } = args;
  const count = intFlag('count', values.count, 1);
  if (count === undefined) throw new UsageError('--count N is required');
  const survey = (values.survey ?? 'ztf') as Survey;
  if (!SURVEYS.includes(survey)) throw new UsageError(`--survey is one of ${SURVEYS.join(', ')}, got '${values.survey}'`);
  const options = simulationOptions(survey, values, values.night, 'night');
  const { profile, seed, night } = options;
  const bar = progress('simulate');
  const start = performance.now();
  let where: string;
  let inserted: number | undefined;
  let kind: 'sqlite' | 'kafka' = 'sqlite';
  if (values.out !== undefined) {
    simulateIntoFiles(values.out, options, count, (done) => bar.update(done, count));
    where = `Avro files in ${values.out}`;
  } else {
    const config = loadConfig({ confFile: values.conf });
    const opened = openStore(config, 'simulate', createdLine('simulate'));
    where = opened.where;
    kind = opened.kind;
    try {
      inserted = await simulateInto(opened.store, options, count, opened.writeBytes, (done) => bar.update(done, count));
    } finally {
      await opened.store.close();
    }
  }
  bar.done();
  const seconds = (performance.now() - start) / 1000;
  process.stdout.write(
    `simulated ${count} ${profile} alerts (night ${night}, seed ${seed}) in ${seconds.toFixed(1)} s (${(count / seconds).toFixed(0)} alerts/s)` +
      (inserted === undefined ? '' : kind === 'kafka' ? `: ${inserted} written` : `: ${inserted} new, ${count - inserted} already stored (same seed and night)`) + `\n  into ${where}\n`,
  );
  return 0;
}
