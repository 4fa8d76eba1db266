// What the long-running commands share around their loop: one instance per id (the pid file),
// stopping on SIGTERM/SIGINT after the work in flight (a second signal exits at once), structured
// logs on stderr, and the Prometheus endpoint when a port is configured.
import type { Server } from 'node:http';
import { FinkError } from '../errors.ts';
import { streamLogger, type Logger } from '../log.ts';
import { listeningPort, serveMetrics, type MetricsSource } from '../metrics-endpoint.ts';
import { livePid, removePid, writePid } from '../pidfile.ts';

export interface ServiceOptions {
  /** The instance, as the "already runs" error names it: `a distribution service with DISTRIBUTION_ID=x`. */
  label: string;
  /** The command that stops it, named in that error. */
  stopCommand: string;
  pidFile: string;
  /** What marks the service's process in /proc/<pid>/cmdline. */
  marker: string;
  metrics: MetricsSource;
  /** Unset or empty: no endpoint. */
  metricsPort: string | undefined;
  /** What a second signal leaves behind, said as it exits. */
  onSecondSignal: string;
}

/**
 * Runs `body` as the one instance of a service: refused if another runs, its pid file held until
 * `body` returns, its signal raised by the first SIGTERM or SIGINT.
 */
export async function runService<T>(options: ServiceOptions, body: (log: Logger, signal: AbortSignal) => Promise<T>): Promise<T> {
  const running = livePid(options.pidFile, options.marker);
  if (running !== undefined && running !== process.pid) {
    throw new FinkError(`${options.label} already runs (pid ${running}); '${options.stopCommand}' stops it`);
  }
  writePid(options.pidFile);
  const log = streamLogger();
  const signal = stopOnSignals(log, options.onSecondSignal);
  const server = await serveConfiguredMetrics(options.metrics, options.metricsPort, log);
  try {
    return await body(log, signal);
  } finally {
    server?.close();
    removePid(options.pidFile);
  }
}

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
