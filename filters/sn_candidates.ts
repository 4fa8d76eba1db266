// Supernova candidates of any type: the SuperNNova classifier sees a supernova, the survey a real
// positive detection, and no catalogue knows the source as something else.
import { ROID_KNOWN_SSO, UNCLASSIFIED, type AlertFields } from 'fink-distribution/filter';

export const description = 'SN candidates: snn_sn_vs_all above 0.5, positive real detection, unclassified by SIMBAD';

export function filter(alert: AlertFields): boolean {
  return (alert.snn_sn_vs_all ?? 0) > 0.5
    && alert.isdiffpos === 't'
    && (alert.drb ?? 0) > 0.5
    && UNCLASSIFIED.has(alert.cdsxmatch ?? 'Unknown')
    && alert.roid !== ROID_KNOWN_SSO;
}
