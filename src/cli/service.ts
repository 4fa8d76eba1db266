// What the long-running commands share around their loop: stopping on SIGTERM/SIGINT after the work
// in flight (a second signal exits at once), and the Prometheus endpoint when a port is configured.
import type { Server } from 'node:http';
import type { Logger } from '../log.ts';
import { listeningPort, serveMetrics, type MetricsSource } from '../metrics-endpoint.ts';

/** An abort signal raised by the first SIGTERM or SIGINT; the second exits with 130, saying `onSecond`. */
export function stopOnSignals(log: Logger, onSecond: string): AbortSignal {
  const controller = new AbortController();
  const stop = (signal: string) => {
    if (controller.signal.aborted) {
      log('warn', `second signal: exiting now; ${onSecond}`, { signal });
      process.exit(130);
    }
    log('info', 'stopping after the batch in flight', { signal });
    controller.abort();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  return controller.signal;
}

/** Serves `metrics` at /metrics on the port configured (unset or empty: no endpoint), logging where. */
export async function serveConfiguredMetrics(metrics: MetricsSource, port: string | undefined, log: Logger): Promise<Server | undefined> {
  if (port === undefined || port === '') return undefined;
  const server = await serveMetrics(metrics, Number(port));
  log('info', 'metrics served', { url: `http://127.0.0.1:${listeningPort(server) ?? port}/metrics` });
  return server;
}
