// The generator's options from the flags of a command that simulates alerts (fink simulate, fink
// start simulator): one reading of --profile, --seed and the night, the same messages.
import { UsageError } from '../errors.ts';
import type { Survey } from '../alert/survey.ts';
import { isNight, SURVEY_PROFILES, type AnyProfile, type SimulationOptions } from '../sciencedb/simulation.ts';
import { intFlag } from './args.ts';

/** `nightFlag`: the flag's name that gives the night (YYYYMMDD; default today, UTC). */
export function simulationOptions(survey: Survey, values: { profile?: string; seed?: string }, night: string | undefined, nightFlag: string): SimulationOptions {
  const profiles = SURVEY_PROFILES[survey];
  const profile = (values.profile ?? survey) as AnyProfile;
  if (!profiles.includes(profile)) throw new UsageError(`--profile is one of ${profiles.join(', ')} for --survey ${survey}, got '${values.profile}'`);
  const seed = intFlag('seed', values.seed, 0, 2 ** 32 - 1) ?? 1;
  const date = night ?? new Date().toISOString().slice(0, 10).replaceAll('-', '');
  if (!isNight(date)) throw new UsageError(`--${nightFlag} is YYYYMMDD, got '${date}'`);
  return { profile, seed, night: date };
}
