// What the long-running commands share around their loop: one instance per id (the pid file),
// stopping on SIGTERM/SIGINT after the work in flight (a second signal exits at once), structured
// logs on stderr, and the Prometheus endpoint when a port is configured.
import type { Server } from 'node:http';
import { FinkError } from '../errors.ts';
import { streamLogger, type Logger } from '../log.ts';
import { listeningPort, serveMetrics, type MetricsSource } from '../metrics-endpoint.ts';
import type { Config } from '../config/config.ts';
import { removePid, writePid } from '../pidfile.ts';
import { serviceProcess, type ServiceKind } from './services.ts';

/**
 * Runs `body` as the one instance of the configured service of `kind`: refused if another runs,
 * its pid file held until `body` returns, its signal raised by the first SIGTERM or SIGINT.
 */
export async function runService<T>(config: Config, kind: ServiceKind, metrics: MetricsSource, body: (log: Logger, signal: AbortSignal) => Promise<T>): Promise<T> {
  const { identity, file, pid } = serviceProcess(config, kind);
  if (pid !== undefined && pid !== process.pid) throw new FinkError(`${kind.named} with ${identity} already runs (pid ${pid}); 'fink stop ${kind.command}' stops it`);
  writePid(file);
  const log = streamLogger();
  const signal = stopOnSignals(log, kind.onSecondSignal);
  const server = await serveConfiguredMetrics(metrics, config.get(kind.metricsPortKey), log);
  try {
    return await body(log, signal);
  } finally {
    server?.close();
    removePid(file);
  }
}

/** An abort signal raised by the first SIGTERM or SIGINT; the second exits with 130, saying `onSecond`. */
function stopOnSignals(log: Logger, onSecond: string): AbortSignal {
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
async function serveConfiguredMetrics(metrics: MetricsSource, port: string | undefined, log: Logger): Promise<Server | undefined> {
  if (port === undefined || port === '') return undefined;
  const server = await serveMetrics(metrics, Number(port));
  log('info', 'metrics served', { url: `http://127.0.0.1:${listeningPort(server) ?? port}/metrics` });
  return server;
}
