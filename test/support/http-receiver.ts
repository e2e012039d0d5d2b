// A real HTTP server on 127.0.0.1 standing in for Slack, webhook receivers (and later Langfuse):
// it records every request and answers from a script, so tests see exactly what went over the wire.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  readonly method: string;
  /** path and query, e.g. "/services/T000/B000/XXXX" */
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** the raw body, exactly as received */
  readonly body: string;
  /** the body parsed as JSON, undefined when it is not JSON */
  readonly json: unknown;
  /** the status it was answered with; undefined while it hangs */
  readonly status: number | undefined;
}

export interface ScriptedResponse {
  /** default 200 */
  readonly status?: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** default "ok", Slack's answer */
  readonly body?: string;
  /** wait this long before answering */
  readonly delayMs?: number;
  /** never answer (until the receiver closes) */
  readonly hang?: boolean;
}

export interface HttpReceiver {
  /** http://127.0.0.1:<port> */
  readonly origin: string;
  /** origin + path, e.g. url("/services/T000/B000/XXXX") */
  url(path?: string): string;
  readonly requests: RecordedRequest[];
  /** answers for the next requests, in order; afterwards the default answer */
  enqueue(...responses: ScriptedResponse[]): void;
  /** resolves once at least `count` requests have been recorded */
  waitForRequests(count: number): Promise<RecordedRequest[]>;
  close(): Promise<void>;
}

export async function startHttpReceiver(defaultResponse: ScriptedResponse = {}): Promise<HttpReceiver> {
  const requests: RecordedRequest[] = [];
  const queue: ScriptedResponse[] = [];
  const waiters: Array<{ count: number; resolve: (r: RecordedRequest[]) => void }> = [];
  const timers = new Set<NodeJS.Timeout>();

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      const response = queue.shift() ?? defaultResponse;
      requests.push({
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body,
        json,
        status: response.hang ? undefined : (response.status ?? 200),
      });
      for (const waiter of waiters.filter((w) => requests.length >= w.count)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve([...requests]);
      }
      if (response.hang) return;
      const answer = () => {
        res.writeHead(response.status ?? 200, { 'content-type': 'text/plain', ...response.headers });
        res.end(response.body ?? 'ok');
      };
      if (response.delayMs === undefined) return answer();
      const timer = setTimeout(() => {
        timers.delete(timer);
        answer();
      }, response.delayMs);
      timers.add(timer);
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    origin,
    url: (path = '/') => `${origin}${path}`,
    requests,
    enqueue: (...responses) => void queue.push(...responses),
    waitForRequests(count) {
      if (requests.length >= count) return Promise.resolve([...requests]);
      return new Promise((resolve) => waiters.push({ count, resolve }));
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
