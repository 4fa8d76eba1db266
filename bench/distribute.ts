// One measured run of the distribution service, in a process of its own so that its CPU time and
// peak memory are its own: `node bench/distribute.ts` with the configuration in the environment.
// Prints one JSON line.
import { loadConfig } from '../src/config/config.ts';
import { runDistribution } from '../src/distribution/service.ts';

const config = loadConfig({});
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const summary = await runDistribution(config, { untilCaughtUp: true });
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
const bytes = Object.values(summary.topics).reduce((sum, t) => sum + t.bytes, 0);
const messages = Object.values(summary.topics).reduce((sum, t) => sum + t.messages, 0);
process.stdout.write(JSON.stringify({
  alerts: summary.alerts,
  messages,
  bytes,
  seconds,
  cpu_s: (cpu.user + cpu.system) / 1e6,
  peak_rss_mb: process.resourceUsage().maxRSS / 1024,
}) + '\n');
