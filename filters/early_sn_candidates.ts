// Early type Ia supernova candidates, after Fink's science module of the same name: young
// (few detections), rising-or-new transients that both classifiers call SN Ia-like, away from
// known stars and solar-system objects.
import { ROID_KNOWN_SSO, UNCLASSIFIED, type AlertFields } from 'fink-distribution/filter';

export const description = 'early SN Ia candidates: both classifiers above 0.5, at most 20 detections, not a known star or asteroid';

export function filter(alert: AlertFields): boolean {
  return (alert.rf_snia_vs_nonia ?? 0) > 0.5
    && (alert.snn_snia_vs_nonia ?? 0) > 0.5
    && (alert.ndethist ?? Infinity) <= 20
    && UNCLASSIFIED.has(alert.cdsxmatch ?? 'Unknown')
    && alert.roid !== ROID_KNOWN_SSO;
}
