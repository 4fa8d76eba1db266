// A Prometheus text endpoint (/metrics) for a long-running command's counters: the distribution's
// and stream2science's, served the same way, each rendering its own families.
import { createServer, type Server } from 'node:http';

export interface MetricsSource {
  /** The Prometheus text exposition of every family. */
  render(): string;
}

/** Serves the metrics on host:port (0: any free port); resolves with the server once listening. */
export function serveMetrics(metrics: MetricsSource, port: number, host = '127.0.0.1'): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(metrics.render());
    } else {
      res.writeHead(404).end('see /metrics\n');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

/** The port a server listens on. */
export function listeningPort(server: Server): number | undefined {
  const address = server.address();
  return typeof address === 'object' && address !== null ? address.port : undefined;
}

/** Writes one family: its help and type lines, then each sample (`labels` such as `{topic="t"}`, or ''). */
export function renderFamily(lines: string[], name: string, type: 'counter' | 'gauge' | 'summary', help: string, samples: readonly (readonly [string, number])[]): void {
  lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  for (const [labels, value] of samples) lines.push(`${name}${labels} ${value}`);
}
