// The arithmetic of the user-filters case (bench/user-filters.ts, issue 23: 100 registered filters
// cost at most 1.10x the CPU per alert of none), apart from any broker so that a unit test holds it:
// the counts a run asks for, the order the runs take, and the medians and ratios reported.

/** One service run of the case. */
export interface UserFilterRun {
  filters: number;
  alerts: number;
  /** User + system CPU of the service's process over its whole life. */
  cpu_s: number;
  seconds: number;
  /** Messages and bytes of the community topic (every alert, once). */
  messages: number;
  bytes: number;
  /** Messages and bytes of the user filters' topics. */
  user_messages: number;
  user_bytes: number;
  /** The CPU of the run's second half (the alerts after the first half's batches), and how many alerts that was. */
  steady_cpu_s?: number;
  steady_alerts?: number;
  /** How long the brokers took to be quiet before the run (harness.ts brokersSettled), and the CPU they used during it. */
  settle_s?: number;
  broker_cpu_s?: number;
  /** V8's minor and major collections during the run, and the main thread's milliseconds in them. */
  gc_minor?: number;
  gc_major?: number;
  gc_ms?: number;
}

export interface UserFilterFigures {
  filters: number;
  runs: number;
  /** Medians over the runs of this count. */
  cpu_per_alert_ms: number;
  alerts_per_s: number;
  mb_per_s: number;
  user_messages: number;
  user_mb: number;
  /** CPU per alert against the runs without filters (null: none were run). */
  cpu_vs_none: number | null;
  /** CPU per alert of the runs' second halves, once started and warmed up (null: not measured). */
  steady_cpu_per_alert_ms: number | null;
  steady_vs_none: number | null;
}

/** `--user-filters 0,100`: distinct counts of at least 0, in the order given. */
export function parseFilterCounts(flag: string): number[] {
  const out: number[] = [];
  for (const part of flag.split(',').map((s) => s.trim())) {
    if (!/^\d+$/.test(part)) throw new Error(`--user-filters is a comma-separated list of counts of registered filters (0 or more), got '${flag}'`);
    const n = Number(part);
    if (!out.includes(n)) out.push(n);
  }
  return out;
}

/**
 * The runs in the order they are made: every count once per repeat (0, 100, 0, 100, ...), so that
 * the machine's load drifting over the measurement hits every count alike.
 */
export function interleaved(counts: readonly number[], repeat: number): { repeat: number; filters: number }[] {
  return Array.from({ length: repeat }, (_, r) => counts.map((filters) => ({ repeat: r, filters }))).flat();
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Each count's medians, in the order of `counts`, and its CPU per alert against the count 0's. */
export function userFilterFigures(counts: readonly number[], runs: readonly UserFilterRun[]): UserFilterFigures[] {
  const perCount = counts.map((filters) => {
    const mine = runs.filter((r) => r.filters === filters);
    return {
      filters,
      runs: mine.length,
      cpu_per_alert_ms: median(mine.map((r) => (r.cpu_s * 1000) / r.alerts)),
      alerts_per_s: median(mine.map((r) => r.alerts / r.seconds)),
      mb_per_s: median(mine.map((r) => r.bytes / r.seconds / 1e6)),
      user_messages: median(mine.map((r) => r.user_messages)),
      user_mb: median(mine.map((r) => r.user_bytes / 1e6)),
      steady_cpu_per_alert_ms: mine.every((r) => r.steady_cpu_s !== undefined && r.steady_alerts! > 0) ? median(mine.map((r) => (r.steady_cpu_s! * 1000) / r.steady_alerts!)) : null,
    };
  });
  const none = perCount.find((f) => f.filters === 0);
  const against = (mine: number | null, theirs: number | null | undefined) => (mine === null || theirs === null || theirs === undefined ? null : mine / theirs);
  return perCount.map((f) => ({ ...f, cpu_vs_none: against(f.cpu_per_alert_ms, none?.cpu_per_alert_ms), steady_vs_none: against(f.steady_cpu_per_alert_ms, none?.steady_cpu_per_alert_ms) }));
}
