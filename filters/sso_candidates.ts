// Solar-system objects: Fink's roid module marks an alert 3 when it matches a known asteroid or
// comet (the ZTF ssdistnr/ssnamenr columns), 1 or 2 for new candidates moving between exposures.
import { ROID_KNOWN_SSO, type AlertFields } from 'fink-distribution/filter';

export const description = 'solar-system objects: known (roid 3) or candidate (roid 1, 2) moving objects';

export function filter(alert: AlertFields): boolean {
  return alert.roid !== null && alert.roid >= 1 && alert.roid <= ROID_KNOWN_SSO;
}
