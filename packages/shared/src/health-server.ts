import { createServer, type Server } from 'node:http';

export interface HealthServerOptions {
  port: number;
  host?: string;
  /** Ready to take work (e.g. Redis connected, worker running, not shutting down). */
  isReady: () => boolean;
  /** Serves `/metrics` (Prometheus text format) when given. */
  metrics?: { contentType: string; metrics(): Promise<string> };
}

export interface HealthServer {
  server: Server;
  port: number;
  close(): Promise<void>;
}

/**
 * A worker's probe endpoints: `/healthz` (the process answers) and `/readyz` (it can take work).
 * Plain node:http: a worker has no other HTTP to serve.
 */
export async function startHealthServer({
  port,
  host = '0.0.0.0',
  isReady,
  metrics,
}: HealthServerOptions): Promise<HealthServer> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path === '/metrics' && metrics) {
      metrics.metrics().then(
        (body) => response.writeHead(200, { 'content-type': metrics.contentType }).end(body),
        () => reply(response, 500, { status: 'metrics_failed' }),
      );
      return;
    }
    if (path === '/healthz') return reply(response, 200, { status: 'ok' });
    if (path === '/readyz') {
      const ready = isReady();
      return reply(response, ready ? 200 : 503, { status: ready ? 'ready' : 'not_ready' });
    }
    return reply(response, 404, { status: 'not_found' });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  return {
    server,
    port: typeof address === 'object' && address ? address.port : port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function reply(response: import('node:http').ServerResponse, status: number, body: object): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
