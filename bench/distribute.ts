// One measured run of the distribution service, in a process of its own so that its CPU time and
// peak memory are its own: `node bench/distribute.ts` with the configuration in the environment.
// Prints one JSON line: `messages` and `bytes` are those of the community topics, the user filters'
// topics (USER_TOPIC_PREFIX) are counted apart in `user_messages` and `user_bytes`.
import { readFileSync } from 'node:fs';
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { applyV8RuntimeFlags, enableModuleCompileCache } from '../src/cli/runtime.ts';
import type { Metrics as MetricsType } from '../src/distribution/metrics.ts';

// As the command launcher does for `fink start distribution` (bin/launch.ts): V8's flags and Node's
// module compile cache first, then the service's modules (the filters are imported during the run).
applyV8RuntimeFlags();
enableModuleCompileCache();
const { loadConfig } = await import('../src/config/config.ts');
const { Metrics } = await import('../src/distribution/metrics.ts');
const { runDistribution } = await import('../src/distribution/service.ts');
const { distributionSettings } = await import('../src/distribution/settings.ts');
const config = loadConfig({});

/**
 * BENCH_STEADY_AFTER=N: the CPU is also read when the first batch that takes the count of alerts
 * committed to N or past it is counted, so that what the rest of the run cost is known apart from
 * the start (modules, connections, the code V8 compiles as it warms up, the first batch's topics).
 */
const steadyAfter = Number(process.env.BENCH_STEADY_AFTER ?? 0);
let steady: { cpu: NodeJS.CpuUsage; alerts: number } | undefined;
class SteadyMetrics extends Metrics {
  override countBatch(...args: Parameters<MetricsType['countBatch']>): void {
    super.countBatch(...args);
    if (steadyAfter > 0 && steady === undefined && this.alerts >= steadyAfter) steady = { cpu: process.cpuUsage(), alerts: this.alerts };
  }
}

/** V8's collections during the run: how many of each kind, and the main thread's time in them. */
const gc = { minor: 0, major: 0, ms: 0 };
const collections = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const kind = ((entry as PerformanceEntry & { detail?: { kind?: number } }).detail)?.kind;
    if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) gc.major++;
    else if (kind === constants.NODE_PERFORMANCE_GC_MINOR) gc.minor++;
    gc.ms += entry.duration;
  }
});
collections.observe({ entryTypes: ['gc'] });

const cpu0 = process.cpuUsage();
const t0 = performance.now();
const summary = await runDistribution(distributionSettings(config), { untilCaughtUp: true, metrics: new SteadyMetrics() });
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
collections.disconnect();
const after = steady === undefined ? undefined : process.cpuUsage(steady.cpu);
const userPrefix = config.require('USER_TOPIC_PREFIX');
const sum = (user: boolean, what: 'bytes' | 'messages') => Object.entries(summary.topics).filter(([topic]) => topic.startsWith(userPrefix) === user).reduce((total, [, t]) => total + t[what], 0);
process.stdout.write(JSON.stringify({
  alerts: summary.alerts,
  messages: sum(false, 'messages'),
  bytes: sum(false, 'bytes'),
  user_messages: sum(true, 'messages'),
  user_bytes: sum(true, 'bytes'),
  seconds,
  cpu_s: (cpu.user + cpu.system) / 1e6,
  ...(after === undefined ? {} : { steady_cpu_s: (after.user + after.system) / 1e6, steady_alerts: summary.alerts - steady!.alerts }),
  peak_rss_mb: peakRssMb(),
  gc_minor: gc.minor,
  gc_major: gc.major,
  gc_ms: gc.ms,
}) + '\n');

/**
 * This process's own peak resident memory. Not getrusage's maxRSS: Linux carries the high-water
 * mark of the parent's image over fork and exec, so a child of a large benchmark process would
 * report the parent's size. VmHWM belongs to the current memory map only.
 */
function peakRssMb(): number {
  try {
    return Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024;
  } catch {
    return process.resourceUsage().maxRSS / 1024;
  }
}
