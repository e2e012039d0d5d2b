// An in-process HTTP server that answers like Langfuse v4.16 on the endpoints the worker uses, held
// to recordings of a real server (test/contract/langfuse-recorded.test.ts). Dev only: the tests and
// the benchmark use it; `spend-alerts demo` ships the smaller src/demo/server.ts.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sleep as realSleep, type Sleep } from '../../src/util/backoff.js';
import { LANGFUSE_VERSION, type ApiVersion } from './contract.js';
import { answerMetricsQuery, type QueryAnswer } from './query.js';
import { ModelStore, type CatalogueModel } from './models.js';
import { ObservationStore, type FakeObservation } from './store.js';

export type { FakeObservation } from './store.js';
export type { CatalogueModel } from './models.js';

export interface FakeLangfuseOptions {
  observations: readonly FakeObservation[];
  publicKey?: string;
  secretKey?: string;
  projectId?: string;
  projectName?: string;
  organization?: { id: string; name: string };
  /** default 127.0.0.1 */
  host?: string;
  /** default 0: any free port */
  port?: number;
  /** default true; false: the v2 metrics path answers the HTML 404 of self-hosted Langfuse v3 */
  v2Enabled?: boolean;
  /** send 64-bit integers (counts, token sums) as strings, like ClickHouse before 25.8 */
  stringIntegers?: boolean;
  /** waits out a `delay` fault; default a real timer (tests pass their own to hold answers on an event) */
  sleep?: Sleep;
  /** Langfuse's own models (test/fixtures/langfuse/builtin-models.json); default none */
  managedModels?: readonly CatalogueModel[];
}

interface FaultScope {
  /** how many matching requests it applies to; default 1 */
  times?: number;
  /** only requests to this path (trailing slash ignored); default every path */
  path?: string;
  /** only requests of this method (POST: a model's creation, not the list on the same path); default any */
  method?: string;
}

export type Fault = FaultScope &
  (
    | { kind: 'status'; status: number; body?: string; retryAfter?: string | number }
    /** answers normally, `ms` later */
    | { kind: 'delay'; ms: number }
    /** never answers; the socket stays open until the client gives up or close() */
    | { kind: 'hang' }
    /** sends the headers and part of the body, then destroys the socket */
    | { kind: 'drop' }
    /** 200 with a body that is not JSON */
    | { kind: 'malformed' }
    /** 401 as for revoked keys, whatever the credentials */
    | { kind: 'refuse-auth' }
    /**
     * 401 from a careless proxy: its message echoes the Authorization header, the decoded
     * `publicKey:secretKey` and both URL-encoded
     */
    | { kind: 'echo-auth' }
  );

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  /** the `query` parameter decoded as JSON; null when absent or not JSON */
  readonly query: unknown;
  /** 0: never answered (a `hang` fault) */
  readonly status: number;
  readonly at: Date;
}

export interface FakeLangfuse {
  readonly url: string;
  readonly publicKey: string;
  readonly secretKey: string;
  readonly projectId: string;
  readonly requests: ReadonlyArray<RecordedRequest>;
  /** the project's own models (not Langfuse's), as the Models API answers them */
  customModels(): unknown[];
  setObservations(observations: readonly FakeObservation[]): void;
  addObservations(observations: readonly FakeObservation[]): void;
  /** applies to the next matching request(s), before anything else; faults queue in order */
  inject(fault: Fault): void;
  clearFaults(): void;
  close(): Promise<void>;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const HOST_HINT = ". Confirm that you've configured the correct host.";

// The body Next.js renders for an unknown route, abridged.
const NOT_FOUND_HTML =
  '<!DOCTYPE html><html lang="en"><head><meta charSet="utf-8"/><title>404: This page could not be found.</title></head>' +
  '<body><h1 class="next-error-h1">404</h1><div><h2>This page could not be found.</h2></div></body></html>';

interface Answer {
  readonly status: number;
  readonly body: string;
  readonly headers?: Readonly<Record<string, string>>;
}

const json = (status: number, body: unknown, headers?: Record<string, string>): Answer => ({
  status,
  body: JSON.stringify(body),
  headers: { 'content-type': JSON_TYPE, ...headers },
});

const notFound = (): Answer => ({ status: 404, body: NOT_FOUND_HTML, headers: { 'content-type': 'text/html; charset=utf-8' } });

const methodNotAllowed = (): Answer => json(405, { message: 'Method not allowed', error: 'MethodNotAllowedError' });

export async function startFakeLangfuse(options: FakeLangfuseOptions): Promise<FakeLangfuse> {
  const publicKey = options.publicKey ?? 'pk-lf-fake';
  const secretKey = options.secretKey ?? 'sk-lf-fake';
  const projectId = options.projectId ?? 'fake-project';
  const project = {
    id: projectId,
    name: options.projectName ?? 'fake',
    organization: options.organization ?? { id: 'fake-org', name: 'Fake Org' },
    metadata: {},
  };
  const v2Enabled = options.v2Enabled ?? true;
  const stringIntegers = options.stringIntegers ?? false;
  const sleep = options.sleep ?? realSleep;
  const store = new ObservationStore(options.observations);
  const models = new ModelStore(options.managedModels ?? [], () => new Date());
  const requests: RecordedRequest[] = [];
  const faults: Array<Fault & { remaining: number }> = [];

  // createAuthedProjectAPIRoute + ApiAuthService.verifyAuthHeaderAndReturnScope
  const authenticate = (header: string | undefined): Answer | null => {
    if (!header) return json(401, { message: 'No authorization header' });
    if (header.startsWith('Basic ')) {
      let decoded: string;
      try {
        decoded = atob(header.split(' ')[1] ?? '');
      } catch (error) {
        return json(401, { message: `${error instanceof Error ? error.message : 'Authorization error'}${HOST_HINT}` });
      }
      const [user, password] = decoded.split(':');
      if (!user || !password) return json(401, { message: `Invalid authorization header${HOST_HINT}` });
      return user === publicKey && password === secretKey ? null : json(401, { message: `Invalid credentials${HOST_HINT}` });
    }
    if (header.startsWith('Bearer ')) {
      return header.slice('Bearer '.length) === publicKey
        ? json(403, { message: 'Access denied - insufficient permissions for this endpoint' })
        : json(401, { message: `Invalid public key${HOST_HINT}` });
    }
    return json(401, { message: 'Invalid authorization header' });
  };

  const metrics = (version: ApiVersion, req: IncomingMessage, url: URL): Answer => {
    if (req.method !== 'GET') return methodNotAllowed();
    const refused = authenticate(req.headers.authorization);
    if (refused) return refused;
    const values = url.searchParams.getAll('query');
    const answer: QueryAnswer = answerMetricsQuery(version, values.length > 1 ? values : values[0], store, {
      stringIntegers,
    });
    return json(answer.status, answer.body);
  };

  const modelsApi = (req: IncomingMessage, url: URL, path: string, body: string): Answer => {
    const refused = authenticate(req.headers.authorization);
    const id = path === MODELS_PATH ? undefined : decodeURIComponent(path.slice(MODELS_PATH.length + 1));
    const allowed = id === undefined ? ['GET', 'POST'] : ['GET', 'DELETE'];
    if (!allowed.includes(req.method ?? '')) return methodNotAllowed();
    if (refused) return refused;
    let answer;
    if (id !== undefined) answer = req.method === 'GET' ? models.get(id) : models.delete(id);
    else if (req.method === 'GET') answer = models.list(url.searchParams);
    else answer = models.create(parseJson(body));
    return json(answer.status, answer.body);
  };

  const route = (req: IncomingMessage, url: URL, path: string, body: string): Answer => {
    if (path === MODELS_PATH || (path.startsWith(`${MODELS_PATH}/`) && !path.slice(MODELS_PATH.length + 1).includes('/'))) {
      return modelsApi(req, url, path, body);
    }
    switch (path) {
      case '/api/public/health':
      case '/api/public/ready':
        return req.method === 'GET' || req.method === 'HEAD'
          ? json(200, { status: 'OK', version: LANGFUSE_VERSION })
          : methodNotAllowed();
      case '/api/public/projects': {
        if (req.method !== 'GET') return methodNotAllowed();
        return authenticate(req.headers.authorization) ?? json(200, { data: [project] });
      }
      case '/api/public/v2/metrics':
        return v2Enabled ? metrics('v2', req, url) : notFound();
      case '/api/public/metrics':
        return metrics('v1', req, url);
      default:
        return notFound();
    }
  };

  const takeFault = (path: string, method: string): Fault | undefined => {
    const index = faults.findIndex((f) => (f.path === undefined || normalizePath(f.path) === path) && (f.method === undefined || f.method === method));
    const fault = faults[index];
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) faults.splice(index, 1);
    return fault;
  };

  const send = (res: ServerResponse, answer: Answer): void => {
    res.writeHead(answer.status, { ...answer.headers, 'content-length': Buffer.byteLength(answer.body) });
    res.end(answer.body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://fake-langfuse');
    const path = normalizePath(url.pathname);
    const record = (status: number): void => {
      requests.push({ method: req.method ?? 'GET', path: url.pathname, query: decodeQuery(url), status, at: new Date() });
    };
    const body = req.method === 'POST' ? await readBody(req) : '';
    const fault = takeFault(path, req.method ?? 'GET');
    if (fault?.kind === 'hang') {
      record(0);
      return;
    }
    if (fault?.kind === 'delay') await sleep(fault.ms);
    let answer: Answer;
    switch (fault?.kind) {
      case 'status':
        answer = {
          status: fault.status,
          body: fault.body ?? JSON.stringify({ message: `Injected ${fault.status}` }),
          headers: {
            'content-type': JSON_TYPE,
            ...(fault.retryAfter === undefined ? {} : { 'retry-after': String(fault.retryAfter) }),
          },
        };
        break;
      case 'malformed':
        answer = { status: 200, body: '{"data": [{"sum_totalCost": 0.5', headers: { 'content-type': JSON_TYPE } };
        break;
      case 'refuse-auth':
        answer = json(401, { message: `Invalid credentials${HOST_HINT}` });
        break;
      case 'echo-auth':
        answer = json(401, { message: echoAuthorization(req.headers.authorization ?? '') });
        break;
      default:
        answer = route(req, url, path, body);
    }
    record(answer.status);
    if (fault?.kind === 'drop') {
      res.writeHead(answer.status, { ...answer.headers, 'content-length': Buffer.byteLength(answer.body) });
      res.write(answer.body.slice(0, Math.floor(answer.body.length / 2)), () => res.destroy());
      return;
    }
    send(res, answer);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, json(500, { message: 'Internal Server Error', error: String(error) }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}`,
    publicKey,
    secretKey,
    projectId,
    requests,
    customModels: () => models.custom(),
    setObservations: (observations) => store.replace(observations),
    addObservations: (observations) => store.add(observations),
    inject: (fault) => {
      faults.push({ ...fault, remaining: fault.times ?? 1 });
    },
    clearFaults: () => {
      faults.length = 0;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

const MODELS_PATH = '/api/public/models';

async function readBody(req: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of req) body += String(chunk);
  return body;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function normalizePath(path: string): string {
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

function decodeQuery(url: URL): unknown {
  const raw = url.searchParams.get('query');
  if (raw === null) return null;
  try {
    return JSON.parse(raw);
  } catch {
    return null;
  }
}

function echoAuthorization(header: string): string {
  const decoded = Buffer.from(header.replace(/^Basic\s+/i, ''), 'base64').toString('utf8');
  return `Unauthorized: Authorization: ${header} (${decoded}; ${encodeURIComponent(header)}; ${encodeURIComponent(decoded)})`;
}
