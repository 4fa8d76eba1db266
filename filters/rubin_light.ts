// Rubin: every alert without its three cutouts and its histories (previous sources and forced
// sources): about 1 to 3 KB instead of 150 KB or more, for consumers that want the detection and the
// classifications only. Its messages carry their own schema.
import type { LsstFields } from 'fink-distribution/filter';

export const survey = 'lsst';

export const description = 'every Rubin alert without cutouts or histories (a light stream with its own schema)';

export const dropFields = ['cutoutDifference', 'cutoutScience', 'cutoutTemplate', 'prvDiaSources', 'prvDiaForcedSources'];

export function filter(_alert: LsstFields): boolean {
  return true;
}
