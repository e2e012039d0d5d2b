// The daemon's HTTP face: the status page at / (unless turned off), /healthz (the process
// answers), /readyz (it is doing its job) and /metrics (Prometheus text). Nothing else, and only
// GET/HEAD: it may be reachable from a cluster, and it has no authentication of its own.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Readiness {
  readonly ready: boolean;
  /** one line on why (not) */
  readonly reason: string;
}

export interface HttpHandlers {
  readiness(): Readiness;
  metrics(): Promise<{ contentType: string; body: string }>;
  /** the status page's HTML; absent: no page (`--no-ui`), / is not found */
  page?(): Promise<string>;
}

/**
 * The page runs nothing and loads nothing: should a value ever slip through its escaping, the
 * browser still refuses scripts, external requests and frames.
 */
const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
};

export interface HttpServer {
  readonly port: number;
  close(): Promise<void>;
}

export class ListenError extends Error {
  override name = 'ListenError';
}

export async function startHttpServer(options: { port: number; host?: string; handlers: HttpHandlers }): Promise<HttpServer> {
  const { handlers } = options;
  const server = createServer((req, res) => {
    answer(req, res, handlers).catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, `internal error: ${error instanceof Error ? error.message : String(error)}\n`);
      else res.destroy();
    });
  });
  // probes and scrapers open short connections; don't let an idle one hold shutdown up
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const where = `${options.host ?? ''}:${options.port}`;
      reject(new ListenError(error.code === 'EADDRINUSE' ? `cannot listen on ${where}: the port is in use` : `cannot listen on ${where}: ${error.message}`));
    });
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function answer(req: IncomingMessage, res: ServerResponse, handlers: HttpHandlers): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    send(res, 405, 'method not allowed\n', { allow: 'GET, HEAD' });
    return;
  }
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  switch (path) {
    case '/':
      if (handlers.page === undefined) break;
      send(res, 200, await handlers.page(), PAGE_HEADERS);
      return;
    case '/healthz':
      // answering at all is the proof: the event loop is turning
      send(res, 200, 'ok\n');
      return;
    case '/readyz': {
      const readiness = handlers.readiness();
      send(res, readiness.ready ? 200 : 503, `${readiness.reason}\n`);
      return;
    }
    case '/metrics': {
      const metrics = await handlers.metrics();
      send(res, 200, metrics.body, { 'content-type': metrics.contentType });
      return;
    }
  }
  send(res, 404, `not found: try ${handlers.page === undefined ? '' : '/, '}/healthz, /readyz or /metrics\n`);
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
