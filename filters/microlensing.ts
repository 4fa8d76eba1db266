// Microlensing events: Fink's LIA-based classifier gives a probability; keep the confident ones.
import type { AlertFields } from 'fink-distribution/filter';

export const description = 'microlensing candidates: mulens probability above 0.5';

export function filter(alert: AlertFields): boolean {
  return (alert.mulens ?? 0) > 0.5;
}
