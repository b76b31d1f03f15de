import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import { healthReport, type DependencyProbes } from './dependency-health';

export interface OpsServerOptions {
  registry: Registry;
  isReady: () => boolean;
  /** Reported on `/healthz`, which answers 200 whatever they say: a process that lives is not restarted for them. */
  dependencies?: DependencyProbes;
  host: string;
  port: number;
}

/** Liveness, readiness and Prometheus metrics for processes without an HTTP API of their own. */
export async function startOpsServer(options: OpsServerOptions): Promise<Server> {
  const server = createServer((req, res) => {
    const send = (status: number, body: string, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    switch (req.url ?? '') {
      case '/healthz':
        void healthReport(options.dependencies ?? {}).then((report) => send(200, JSON.stringify(report)));
        return;
      case '/readyz':
        return options.isReady() ? send(200, '{"status":"ready"}') : send(503, '{"status":"starting"}');
      case '/metrics':
        options.registry.metrics().then(
          (text) => send(200, text, options.registry.contentType),
          (err: Error) => send(500, JSON.stringify({ error: { code: 'metrics_failed', message: err.message } })),
        );
        return;
      default:
        return send(404, '{"error":{"code":"not_found","message":"try /healthz, /readyz or /metrics"}}');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, resolve);
  });
  return server;
}
