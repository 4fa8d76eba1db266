// The arithmetic of the scale and visit cases (bench/scale.ts), apart from any broker so that a
// unit test holds it: the instance counts a run asks for, the CPU per alert of each run and its
// ratio to one instance's, and the percentiles over visits.

/** One instances-count run of the scale case, as the JSON report carries it. */
export interface ScaleRow {
  profile: string;
  instances: number;
  alerts: number;
  /** From the instances' start, all at once, until the last one exited. */
  seconds: number;
  /** User + system CPU of every instance process over its whole life, summed. */
  cpu_s: number;
}

export interface ScaleFigures extends ScaleRow {
  cpu_per_alert_ms: number;
  /** CPU per alert against the same profile's run with one instance (null: no such run). */
  cpu_per_alert_vs_one: number | null;
  /**
   * The same without what every instance spends whatever it distributes (its start, joining the
   * group, the quiet period before it leaves, measured on an empty log): the CPU each further
   * alert costs, which is what a visit of 40,000 alerts to instances already running pays.
   */
  marginal_cpu_per_alert_ms: number;
  marginal_vs_one: number | null;
}

/**
 * `--instances 1,2,3`: distinct counts, each at least 1 and at most the science log's partitions
 * (a member beyond them holds nothing), in the order given.
 */
export function parseInstances(flag: string, partitions: number): number[] {
  const counts = flag.split(',').map((s) => s.trim());
  const out: number[] = [];
  for (const c of counts) {
    const n = Number(c);
    if (!/^\d+$/.test(c) || n < 1 || n > partitions) throw new Error(`--instances is a comma-separated list of counts from 1 to ${partitions} (SCIENCE_PARTITIONS), got '${flag}'`);
    if (!out.includes(n)) out.push(n);
  }
  return out;
}

/**
 * Each row with its CPU per alert, and that against the one-instance row of its profile; also
 * with `fixedCpuS` (one instance's CPU over an empty log) taken off for each instance.
 */
export function scaleFigures(rows: readonly ScaleRow[], fixedCpuS: number): ScaleFigures[] {
  const perAlert = (r: ScaleRow) => (r.cpu_s / r.alerts) * 1000;
  const marginal = (r: ScaleRow) => ((r.cpu_s - r.instances * fixedCpuS) / r.alerts) * 1000;
  return rows.map((r) => {
    const one = rows.find((o) => o.profile === r.profile && o.instances === 1);
    return {
      ...r,
      cpu_per_alert_ms: perAlert(r),
      cpu_per_alert_vs_one: one === undefined ? null : perAlert(r) / perAlert(one),
      marginal_cpu_per_alert_ms: marginal(r),
      marginal_vs_one: one === undefined ? null : marginal(r) / marginal(one),
    };
  });
}

/**
 * The nearest-rank percentile: the smallest value with at least `q` of the values at or below it.
 * Over a few visits the p99 is their largest, as it should be: no interpolation invents a visit
 * faster than the slowest one seen.
 */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) throw new Error('a percentile of no values');
  if (!(q > 0 && q <= 1)) throw new Error(`a percentile is in (0, 1], got ${q}`);
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil(q * sorted.length) - 1]!;
}
