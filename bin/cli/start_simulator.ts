// `fink start simulator`: replays a night of alerts on the simulator cluster, as the survey emits them.
import { commandArgs, intFlag } from '../../src/cli/args.ts';
import { UsageError } from '../../src/errors.ts';
import { loadConfig } from '../../src/config/config.ts';
import { SURVEYS, type Survey } from '../../src/alert/survey.ts';
import { simulationOptions } from '../../src/cli/simulation-options.ts';
import { fileExposures, simulatedExposures, type Exposure } from '../../src/simulator/exposures.ts';
import { replay } from '../../src/simulator/replay.ts';
import { simulatorSettings } from '../../src/simulator/settings.ts';

/** Seconds between two exposures: Rubin's visits (~40 s), ZTF's exposures (30 s and the readout). */
const CADENCE: Readonly<Record<Survey, number>> = { ztf: 30, lsst: 40 };

const USAGE = `usage: fink start simulator [--survey ztf|lsst] (--night DIR | --simulate N) [options]

Replays alerts on the simulator cluster (SIMULATOR_SERVERS; start it with
'fink_kafka --cluster simulator start'), as the survey emits them: exposure by exposure (ZTF's jd,
Rubin's visit), one exposure every interval.
  ZTF:   topic ztf_YYYYMMDD_programidN, each message an Avro container file (schema in its
         header) holding one alert
  Rubin: topic lsst-alerts-vN (N: the schema's major version), each message in the Confluent wire
         format, its schema registered in the schema registry (SIMULATOR_REGISTRY_URL)

  --survey S            ztf (default) or lsst
  --night DIR           the alert files (.avro) of a night: a folder (read recursively) or a file
  --simulate N          N alerts from the project's generator instead (fink simulate's)
  --profile P           with --simulate: ztf, ztf-light, lsst or lsst-light (default: the survey's)
  --seed S              with --simulate (default 1)
  --date YYYYMMDD       with --simulate: the night simulated (default: today, UTC)
  --visit-interval S    seconds between two exposures (default: ztf ${CADENCE.ztf}, lsst ${CADENCE.lsst})
  --speed X             replays X times faster (default 1; e.g. 100)
  --loop                starts again from the first exposure after the last, until stopped
  --conf FILE           configuration file

SIGTERM or Ctrl-C stops after the exposure in flight.
`;

export async function run(argv: string[]): Promise<number> {
  const args = commandArgs(argv, USAGE, {
    survey: { type: 'string' }, night: { type: 'string' }, simulate: { type: 'string' }, profile: { type: 'string' },
    seed: { type: 'string' }, date: { type: 'string' }, 'visit-interval': { type: 'string' }, speed: { type: 'string' }, loop: { type: 'boolean' },
  });
  if (args === undefined) return 0;
  const { values } = args;
  const survey = (values.survey ?? 'ztf') as Survey;
  if (!SURVEYS.includes(survey)) throw new UsageError(`--survey is one of ${SURVEYS.join(', ')}, got '${values.survey}'`);
  if ((values.night === undefined) === (values.simulate === undefined)) throw new UsageError('give one of --night DIR or --simulate N');
  const interval = positive('visit-interval', values['visit-interval']) ?? CADENCE[survey];
  const speed = positive('speed', values.speed) ?? 1;
  const config = loadConfig({ confFile: values.conf });
  const say = (line: string) => process.stdout.write(line + '\n');

  let source: () => Iterable<Exposure>;
  let planned: string;
  if (values.night !== undefined) {
    if (values.profile !== undefined || values.seed !== undefined || values.date !== undefined) throw new UsageError('--profile, --seed and --date go with --simulate');
    const night = fileExposures([values.night], survey, (done, total) => {
      if (done === total || done % 1000 === 0) say(`indexed ${done}/${total} files`);
    });
    source = night.exposures;
    planned = `${night.alerts} alerts in ${night.count} exposures from ${values.night}`;
  } else {
    const count = intFlag('simulate', values.simulate, 1) as number;
    const options = simulationOptions(survey, values, values.date, 'date');
    source = () => simulatedExposures(count, options, CADENCE.ztf);
    planned = `${count} simulated ${options.profile} alerts (night ${options.night}, seed ${options.seed})`;
  }

  const simulator = simulatorSettings(config);
  const controller = new AbortController();
  const stop = () => {
    if (!controller.signal.aborted) say('stopping after the exposure in flight');
    controller.abort();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  say(`replaying ${planned} on ${simulator.connection.bootstrapBrokers.join(',')}: one exposure every ${(interval / speed).toFixed(3)} s (${interval} s at speed ${speed})${values.loop === true ? ', looping' : ''}`);
  const began = performance.now();
  const report = await replay(simulator, source, {
    intervalMs: (interval * 1000) / speed,
    loop: values.loop === true,
    signal: controller.signal,
    onExposure: (e) => say(`exposure ${e.number} (${survey === 'lsst' ? 'visit' : 'jd'} ${e.id}): ${e.alerts} alerts to ${e.topics.join(', ')} (${e.rate.toFixed(0)} alerts/s)`),
  });
  const seconds = (performance.now() - began) / 1000;
  say(`${report.stopped ? 'stopped' : 'done'}: ${report.exposures} exposures, ${report.alerts} alerts in ${seconds.toFixed(1)} s on ${report.topics.join(', ') || 'no topic'}`);
  return 0;
}

/** A positive number flag (seconds, a speed factor), or undefined when not given. */
function positive(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} expects a positive number, got '${value}'`);
  return n;
}
