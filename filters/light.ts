// Every alert without its three image cutouts: about 1 to 10 KB instead of 45, for consumers that
// want the photometry and the classifications only. Its messages carry their own schema.
import type { AlertFields } from 'fink-distribution/filter';

export const description = 'every alert without cutouts (a light stream with its own schema)';

export const dropFields = ['cutoutScience', 'cutoutTemplate', 'cutoutDifference'];

export function filter(_alert: AlertFields): boolean {
  return true;
}
