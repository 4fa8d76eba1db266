// `node bench/log-record.ts [ALERTS] [ROUNDS]`: the CPU of writing science log records
// (`encodeLogAlert`) for simulated Rubin alerts, without Kafka: each into a new buffer, then each
// into a reused arena as the log's writer does. Prints the CPU per alert of each (user + system,
// every thread: V8's collector included) over ROUNDS rounds of ALERTS alerts after one round not
// counted. Run in another checkout for its figure before a change (BENCHMARKS.md, With the science log).
import { encodeLogAlert } from '../src/sciencedb/log-format.ts';
import { createSimulation } from '../src/sciencedb/simulate.ts';
import { BatchArena } from '../src/kafka/record-batch.ts';

const count = Number(process.argv[2] ?? 300);
const rounds = Number(process.argv[3] ?? 30);
const sim = createSimulation({ profile: 'lsst', seed: 3, night: '20261205' });
const alerts = Array.from({ length: count }, () => sim.next());
const arena = new BatchArena();

/** A transaction's worth: the writer's arena is reset when its transaction ends (DISTRIBUTION_BATCH_BYTES, 16 MiB). */
const TRANSACTION_BYTES = 16 * 1024 * 1024;

function cpuPerAlert(take: ((size: number) => Buffer) | undefined, reset: () => void): number {
  const round = () => {
    let bytes = 0;
    for (const a of alerts) {
      bytes += encodeLogAlert(a, 1, take).length;
      if (bytes > TRANSACTION_BYTES - 256 * 1024) {
        reset();
        bytes = 0;
      }
    }
    reset();
  };
  round();
  const c0 = process.cpuUsage();
  for (let r = 0; r < rounds; r++) round();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000 / (rounds * count);
}

const fresh = cpuPerAlert(undefined, () => {});
const reused = cpuPerAlert((size) => arena.take(size), () => arena.reset());
console.log(JSON.stringify({ alerts: count, rounds, new_buffer_cpu_ms_per_alert: Number(fresh.toFixed(4)), arena_cpu_ms_per_alert: Number(reused.toFixed(4)) }));
