// `npm run bench -- --cases visit [--visits V] [--visit-alerts N] [--visit-instances I]`: a Rubin
// visit landing at once in the science log while a group of distribution instances waits on it.
// The visit's alerts (lsst profile) are simulated once, before anything is timed; each visit then
// has a science log, a group and a distribution_test topic of its own (so that the same alerts are
// new every time, not duplicates the log's window would pass over). The instances start, the group
// settles with every partition held, and the log's own writer (ScienceLogWriter) writes the visit
// in a few transactions back to back. A consumer here follows distribution_test at read_committed,
// counting arrivals only (decoding 10,000 Rubin alerts as they come would take the instances' CPU);
// afterwards every alert is read back, decoded, and checked once.
import { loadConfig } from '../src/config/config.ts';
import { kafkaClientOptions } from '../src/kafka/client-options.ts';
import { readTopic } from '../src/kafka/topic-reader.ts';
import { ScienceLogWriter } from '../src/sciencedb/log-writer.ts';
import { scienceLogSettings } from '../src/sciencedb/log-settings.ts';
import { createSimulation } from '../src/sciencedb/simulate.ts';
import type { NewAlert } from '../src/sciencedb/store.ts';
import { say, withTopic, type Bench, type CaseResult } from './harness.ts';
import { percentile } from './scale-figures.ts';
import { allAssigned, checkExactlyOnce, dropLog, groupEnv, prepareLog, startInstance, type Instance } from './scale.ts';

export interface VisitOptions {
  visits: number;
  alerts: number;
  instances: number;
  /** Transactions the visit is written in. */
  transactions: number;
}

interface VisitRun {
  /** From the first write of the visit to its last alert read on distribution_test. */
  seconds: number;
  /** From the first write to the last transaction committed: the visit landed. */
  landed_s: number;
  cpu_s: number;
}

/** Follows `topic` at read_committed until `count` messages arrived; the time the last did. */
async function lastArrival(env: Record<string, string>, topic: string, count: number, signal: AbortSignal): Promise<number> {
  let n = 0;
  for await (const m of readTopic(kafkaClientOptions(loadConfig({ env })), topic, { follow: true, signal })) {
    if (m.value !== null && ++n >= count) return Date.now();
  }
  throw new Error(`${topic}: ${n} of ${count} alerts arrived before the deadline`);
}

/** The visit written by the log's writer in `transactions` transactions back to back; when it began and ended. */
async function writeVisit(env: Record<string, string>, alerts: readonly NewAlert[], transactions: number): Promise<{ t0: number; landed: number }> {
  const writer = new ScienceLogWriter(scienceLogSettings(loadConfig({ env })), { role: 'bench-visit' });
  try {
    const per = Math.ceil(alerts.length / transactions);
    const t0 = Date.now();
    for (let i = 0; i < alerts.length; i += per) await writer.write(alerts.slice(i, i + per));
    return { t0, landed: Date.now() };
  } finally {
    await writer.close();
  }
}

async function visitRun(bench: Bench, alerts: readonly NewAlert[], o: VisitOptions): Promise<VisitRun> {
  const prefix = `${bench.freshName('visit-log')}_`;
  const topic = bench.freshName('visit');
  const group = bench.freshName('visit-group');
  const env = groupEnv(bench, prefix, topic, `${group}-writer`);
  try {
    // The log exists before the instances start, as a night's log would.
    const partitions = await prepareLog(bench, prefix);
    return await withTopic(bench, topic, async () => {
      const instances: Instance[] = Array.from({ length: o.instances }, (_, i) => startInstance(groupEnv(bench, prefix, topic, `${group}-${i}`), group));
      const controller = new AbortController();
      const deadline = setTimeout(() => controller.abort(), 600_000);
      try {
        await allAssigned(instances, partitions);
        const arrived = lastArrival(env, topic, alerts.length, controller.signal);
        // Should the write fail, the abort below ends this follower too: its rejection is not the
        // cause, which the write's error, thrown next, names (a visit once failed saying only that
        // 1,937 of 10,000 alerts had arrived).
        arrived.catch(() => {});
        const { t0, landed } = await writeVisit(env, alerts, o.transactions);
        const last = await arrived;
        for (const i of instances) i.stop();
        const runs = await Promise.all(instances.map((i) => i.done));
        await checkExactlyOnce(loadConfig({ env }), topic, alerts.length);
        return { seconds: (last - t0) / 1000, landed_s: (landed - t0) / 1000, cpu_s: runs.reduce((s, r) => s + r.cpu_s, 0) };
      } finally {
        clearTimeout(deadline);
        controller.abort();
        for (const i of instances) i.stop();
        await Promise.allSettled(instances.map((i) => i.done));
      }
    });
  } finally {
    await dropLog(bench, prefix);
  }
}

export async function visitCase(bench: Bench, o: VisitOptions): Promise<CaseResult> {
  say(`\n== visit: ${o.visits} Rubin visits of ${o.alerts} lsst alerts, each landing in a fresh science log in ${o.transactions} transactions while ${o.instances} instances of a group wait`);
  const t0 = performance.now();
  const sim = createSimulation({ profile: 'lsst', seed: 7, night: '20261204' });
  const alerts = Array.from({ length: o.alerts }, () => sim.next());
  say(`  simulated the visit's ${o.alerts} alerts in ${((performance.now() - t0) / 1000).toFixed(1)} s (not timed)`);
  const runs: VisitRun[] = [];
  for (let v = 0; v < o.visits; v++) {
    const run = await visitRun(bench, alerts, o);
    runs.push(run);
    say(`  visit ${v + 1}: every alert on distribution_test ${run.seconds.toFixed(2)} s after the first write (the visit landed in ${run.landed_s.toFixed(2)} s); instances' CPU ${run.cpu_s.toFixed(1)} s; each alert once`);
  }
  const seconds = runs.map((r) => r.seconds);
  const p50 = percentile(seconds, 0.5);
  const p99 = percentile(seconds, 0.99);
  const afterLanded = runs.map((r) => r.seconds - r.landed_s);
  return {
    report: {
      visit: {
        alerts: o.alerts, profile: 'lsst', instances: o.instances, visits: o.visits, transactions: o.transactions,
        p50_s: p50, p99_s: p99, seconds, landed_s: runs.map((r) => r.landed_s), cpu_s: runs.map((r) => r.cpu_s),
        after_landed_p50_s: percentile(afterLanded, 0.5), after_landed_p99_s: percentile(afterLanded, 0.99),
      },
    },
    rows: [[`Rubin visit: ${o.alerts} lsst alerts at once, ${o.instances} instances, ${o.visits} visits`, `all out p50 ${p50.toFixed(2)} s, p99 ${p99.toFixed(2)} s from the first write; after the last commit p50 ${percentile(afterLanded, 0.5).toFixed(2)} s, p99 ${percentile(afterLanded, 0.99).toFixed(2)} s`, '', 'Rubin: within 60 s']],
  };
}
