// Rubin: solar-system sources. Rubin associates a source with a known solar-system object
// (ssObjectId, an MPC designation) before it sends the alert; Fink's is_sso says the same.
import type { LsstFields } from 'fink-distribution/filter';

export const survey = 'lsst';

export const description = 'Rubin solar-system sources: associated with a solar-system object by Rubin or Fink';

export function filter(alert: LsstFields): boolean {
  return alert.ssObjectId !== null || alert.designation !== null || alert.is_sso === true;
}
