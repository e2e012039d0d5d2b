// A small Langfuse client (the Metrics API, and the Models API for `models diff|apply`) on our own
// transport: the SDK retries on its own and hides Retry-After, and we need both under our control
// (a Cloud 429 can ask for hours).
import { retryDelayMs, sleep as realSleep, type Sleep } from '../../util/backoff.js';
import { networkReason, parseRetryAfter } from '../../util/http.js';
import { formatSeconds } from '../../util/format-seconds.js';
import { BodyTooLargeError, describeSize, nodeTransport, type Transport } from '../../net/transport.js';
import { createRedactor, credentialPair, fingerprint } from '../../util/redact.js';
import type { ModelDefinition, ProjectModel } from '../../core/models.js';

/** `too-large`: an answer past the body limit, which another try would only repeat */
export type LangfuseErrorKind = 'auth' | 'rate-limited' | 'unavailable' | 'rejected' | 'bad-response' | 'not-found' | 'too-large';

export class LangfuseError extends Error {
  constructor(
    message: string,
    readonly kind: LangfuseErrorKind,
    readonly status?: number,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'LangfuseError';
  }

  get retryable(): boolean {
    return this.kind === 'unavailable' || this.kind === 'rate-limited' || this.kind === 'bad-response';
  }
}

export type MetricsApiVersion = 'v2' | 'v1';

/**
 * Names the Langfuse project a set of keys reads, for what the state directory keeps per project
 * (the project id, the history cache): the host and a fingerprint of the public key, never the
 * key itself, because state files are shown and shared.
 */
export function langfuseIdentity(baseUrl: string, publicKey: string): string {
  return `${baseUrl.replace(/\/+$/, '')}|${fingerprint(publicKey)}`;
}

export interface MetricsQuery {
  readonly view: 'observations';
  readonly metrics: ReadonlyArray<{ measure: string; aggregation: string }>;
  readonly dimensions: ReadonlyArray<{ field: string }>;
  readonly filters: ReadonlyArray<Record<string, unknown>>;
  readonly fromTimestamp: string;
  readonly toTimestamp: string;
  readonly timeDimension?: { granularity: string };
  readonly orderBy?: ReadonlyArray<{ field: string; direction: 'asc' | 'desc' }>;
  readonly config?: { row_limit: number };
}

export type MetricsRow = Readonly<Record<string, unknown>>;

export interface RequestEvent {
  readonly endpoint: string;
  /** HTTP status, or 0 when no answer arrived */
  readonly status: number;
  readonly ms: number;
}

export interface LangfuseClientOptions {
  readonly baseUrl: string;
  readonly publicKey: string;
  readonly secretKey: string;
  readonly timeoutMs?: number;
  readonly maxAttempts?: number;
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  /** a Retry-After longer than this ends the attempt instead of waiting */
  readonly maxRetryAfterSeconds?: number;
  readonly sleep?: Sleep;
  /** the largest answer, decoded, read from Langfuse; default 32 MB */
  readonly maxBodyBytes?: number;
  /** when the client is on v1, v2 is tried again once this long after the switch; default 1 h */
  readonly reprobeAfterMs?: number;
  readonly clock?: () => Date;
  /** how Langfuse is reached (direct, or through a proxy); default direct */
  readonly transport?: Transport;
  readonly onRequest?: (event: RequestEvent) => void;
  readonly onWarning?: (message: string) => void;
}

const METRICS_PATHS: Record<MetricsApiVersion, string> = {
  v2: '/api/public/v2/metrics',
  v1: '/api/public/metrics',
};

const MODELS_PATH = '/api/public/models';
const MODELS_PAGE_SIZE = 100;

const REPROBE_AFTER_MS = 3_600_000;
/** far above any real answer (a 1,000-row page is well under 1 MB), far below what exhausts memory */
const MAX_BODY_BYTES = 32 << 20;

export class LangfuseClient {
  private version: MetricsApiVersion = 'v2';
  /** on v1: when v2 last answered 404 */
  private v2MissingAt = 0;
  /** v2 is being tried again after a time on v1; it stays only if it answers */
  private probingV2 = false;
  /** the v1 warning has been given (once, however often v2 is probed) */
  private warnedV1 = false;
  private readonly authorization: string;
  private readonly baseUrl: string;
  /**
   * Langfuse, or a proxy in front of it, may echo the request in its error: every message of a
   * LangfuseError passes this, so none carries the keys in any form (the Basic header included).
   */
  private readonly redact: (text: string) => string;

  constructor(private readonly options: LangfuseClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.authorization = 'Basic ' + Buffer.from(`${options.publicKey}:${options.secretKey}`).toString('base64');
    this.redact = createRedactor(credentialPair(options.publicKey, options.secretKey));
  }

  get apiVersion(): MetricsApiVersion {
    return this.version;
  }

  /**
   * Runs a metrics query on v2, or on the legacy v1 while v2 answers 404 (self-hosted Langfuse
   * v3). v1 is off on Cloud and on self-hosted v4, so being on it is never taken for good: v2 is
   * tried again when v1 fails and at least hourly, and a 404 from v2 during a deploy costs at most
   * an hour on v1. A query that meets a 404 while another one already switched versions goes to
   * the version in force now, so concurrent queries all end up where Langfuse answers. The query
   * is built per version because a few field names differ.
   */
  async metrics(
    build: (version: MetricsApiVersion) => MetricsQuery,
    signal?: AbortSignal,
  ): Promise<{ rows: MetricsRow[]; version: MetricsApiVersion }> {
    const tried: Record<MetricsApiVersion, number> = { v2: 0, v1: 0 };
    let failure: LangfuseError | undefined;
    for (let version = this.currentVersion(); ; ) {
      tried[version] += 1;
      const query = build(version);
      const url = `${this.baseUrl}${METRICS_PATHS[version]}?query=${encodeURIComponent(JSON.stringify(query))}`;
      try {
        const rows = await this.getJson(url, `metrics-${version}`, signal, (body) => parseRows(body, query));
        if (version === 'v2') this.v2Answered();
        return { rows, version };
      } catch (error) {
        if (!(error instanceof LangfuseError) || signal?.aborted) throw error;
        const v2Missing = version === 'v2' && error.kind === 'not-found';
        if (v2Missing) this.v2Missing();
        // the error worth reporting: v1's own failure rather than v2's 404 that sent us back to it
        if (failure === undefined || !v2Missing) failure = error;
        const next = this.nextVersion(version, error, tried);
        if (next === undefined) throw failure;
        version = next;
      }
    }
  }

  /** The wall clock: the one given, the system's without (tests that need no other). */
  private now(): Date {
    return this.options.clock?.() ?? new Date();
  }

  /** The version to query now: v1 after v2 answered 404, until it is time to try v2 again. */
  private currentVersion(): MetricsApiVersion {
    const now = this.now().getTime();
    if (this.version === 'v1' && now - this.v2MissingAt >= (this.options.reprobeAfterMs ?? REPROBE_AFTER_MS)) this.probeV2();
    return this.version;
  }

  /**
   * After a failure on `version`: the version to try next in the same query, if any. v1 is tried
   * once; v2 once more after v1 failed too, which is what a v2 404 in the middle of a deploy of a
   * Langfuse without v1 looks like. At most three tries in all.
   */
  private nextVersion(version: MetricsApiVersion, error: LangfuseError, tried: Readonly<Record<MetricsApiVersion, number>>): MetricsApiVersion | undefined {
    if (version === 'v2') {
      // another query switched meanwhile, or this 404 did
      const toV1 = this.version === 'v1' || error.kind === 'not-found';
      return toV1 && tried.v1 === 0 ? 'v1' : undefined;
    }
    // v1 failing may mean Langfuse was upgraded or its deploy is over: v2 again. Not after a 429,
    // which asks for fewer requests, not more.
    if (error.kind === 'rate-limited' || tried.v2 >= 2) return undefined;
    if (this.version === 'v1') this.probeV2();
    return 'v2';
  }

  private v2Missing(): void {
    this.v2MissingAt = this.now().getTime();
    this.probingV2 = false;
    if (this.version === 'v1') return;
    this.version = 'v1';
    if (this.warnedV1) return;
    this.warnedV1 = true;
    this.options.onWarning?.(
      'Langfuse answered 404 for the v2 Metrics API: using the legacy v1 API (self-hosted Langfuse v3) and trying v2 again hourly. ' +
        "v1's metadata filter only sees observation metadata, so metadata-filtered alerts may read $0.",
    );
  }

  private probeV2(): void {
    this.version = 'v2';
    this.probingV2 = true;
  }

  /** v2 answered: it exists, whatever a 404 said before (a probe, or a query in flight while another switched) */
  private v2Answered(): void {
    if (this.version === 'v2' && !this.probingV2) return;
    this.version = 'v2';
    this.probingV2 = false;
    this.options.onWarning?.('Langfuse answers the v2 Metrics API again: using it instead of the legacy v1 API.');
  }

  /** The project the keys belong to, for links; null when Langfuse doesn't say. */
  async projectId(signal?: AbortSignal): Promise<string | null> {
    // One attempt: a link is not worth delaying the evaluation that follows.
    const body = await this.getJson(`${this.baseUrl}/api/public/projects`, 'projects', signal, (json) => json, 1);
    const data = (body as { data?: Array<{ id?: unknown }> } | null)?.data;
    const id = Array.isArray(data) ? data[0]?.id : undefined;
    return typeof id === 'string' && id !== '' ? id : null;
  }

  /**
   * Every model of the project, Langfuse's own included, page after page (100 a page, until the
   * last page `meta.totalPages` names). The Models API has a rate limit of its own on Langfuse's
   * side: nothing here passes through the metrics request budget.
   */
  async listModels(signal?: AbortSignal): Promise<ProjectModel[]> {
    const models: ProjectModel[] = [];
    for (let page = 1; ; page++) {
      const url = `${this.baseUrl}${MODELS_PATH}?page=${page}&limit=${MODELS_PAGE_SIZE}`;
      const { data, totalPages } = await this.getJson(url, 'models', signal, parseModelPage);
      models.push(...data);
      if (page >= totalPages || data.length === 0) return models;
    }
  }

  /**
   * Creates a model. A POST is not idempotent: it is retried only after an answer that says
   * nothing was done (429, 503); without an answer Langfuse may have created it, so the error is
   * the caller's to settle by listing again (models apply does on its next run).
   */
  async createModel(model: ModelDefinition, signal?: AbortSignal): Promise<ProjectModel> {
    return this.send({
      method: 'POST',
      url: `${this.baseUrl}${MODELS_PATH}`,
      endpoint: 'models',
      body: model,
      signal,
      read: parseModel,
      maxAttempts: this.options.maxAttempts ?? 4,
      retryable: (failure) => failure.status === 429 || failure.status === 503,
    });
  }

  /**
   * Deletes a project model; `absent` when Langfuse has none of that id (deleted already, by an
   * earlier try whose answer was lost, or one of Langfuse's own, which can't be deleted).
   */
  async deleteModel(id: string, signal?: AbortSignal): Promise<'deleted' | 'absent'> {
    try {
      return await this.send({
        method: 'DELETE',
        url: `${this.baseUrl}${MODELS_PATH}/${encodeURIComponent(id)}`,
        endpoint: 'models',
        signal,
        read: () => 'deleted' as const,
        maxAttempts: this.options.maxAttempts ?? 4,
        retryable: (failure) => failure.retryable,
      });
    } catch (error) {
      if (error instanceof LangfuseError && error.kind === 'not-found') return 'absent';
      throw error;
    }
  }

  /**
   * GETs `url` and reads its JSON with `read`, retrying what may pass: a malformed answer (not
   * JSON, or `read` finding it malformed) is retried like a 5xx.
   */
  private getJson<T>(
    url: string,
    endpoint: string,
    signal: AbortSignal | undefined,
    read: (body: unknown) => T,
    maxAttempts = this.options.maxAttempts ?? 4,
  ): Promise<T> {
    return this.send({ method: 'GET', url, endpoint, signal, read, maxAttempts, retryable: (failure) => failure.retryable });
  }

  /**
   * One request, retried with backoff (Retry-After wins) while `retryable` says another try may
   * pass and attempts are left.
   */
  private async send<T>(request: {
    method: 'GET' | 'POST' | 'DELETE';
    url: string;
    endpoint: string;
    body?: unknown;
    signal: AbortSignal | undefined;
    read: (body: unknown) => T;
    maxAttempts: number;
    retryable: (failure: LangfuseError) => boolean;
  }): Promise<T> {
    const sleep = this.options.sleep ?? realSleep;
    const { signal, maxAttempts } = request;
    for (let attempt = 1; ; attempt++) {
      try {
        return request.read(await this.attempt(request));
      } catch (error) {
        // cancelled or out of time: the caller's reason, not a Langfuse failure
        if (signal?.aborted) throw signal.reason;
        const failure = error instanceof LangfuseError ? error : unavailable(error, this.redact);
        if (!request.retryable(failure) || attempt >= maxAttempts) throw failure;
        const maxRetryAfter = this.options.maxRetryAfterSeconds ?? 60;
        if (failure.retryAfterSeconds !== undefined && failure.retryAfterSeconds > maxRetryAfter) throw failure;
        await sleep(
          retryDelayMs(attempt, {
            baseMs: this.options.baseDelayMs ?? 500,
            maxMs: this.options.maxDelayMs ?? 30_000,
            retryAfterSeconds: failure.retryAfterSeconds,
          }),
          signal,
        );
      }
    }
  }

  private async attempt(request: { method: 'GET' | 'POST' | 'DELETE'; url: string; endpoint: string; body?: unknown; signal?: AbortSignal | undefined }): Promise<unknown> {
    const { method, url, endpoint, signal } = request;
    const started = performance.now();
    const timeout = AbortSignal.timeout(this.options.timeoutMs ?? 30_000);
    let status = 0;
    try {
      const response = await (this.options.transport ?? nodeTransport)({
        method,
        url,
        headers: {
          authorization: this.authorization,
          accept: 'application/json',
          ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        maxBodyBytes: this.options.maxBodyBytes ?? MAX_BODY_BYTES,
      });
      status = response.status;
      if (status < 200 || status >= 300) throw statusError(status, response.body, response.header('retry-after'), this.redact, this.now(), method === 'GET' ? 'query' : 'request');
      try {
        return JSON.parse(response.body);
      } catch {
        throw new LangfuseError(`Langfuse sent a response that is not JSON (HTTP ${status})`, 'bad-response', status);
      }
    } catch (error) {
      if (error instanceof LangfuseError) throw error;
      if (error instanceof BodyTooLargeError) {
        status = error.status;
        throw new LangfuseError(`Langfuse answered more than ${describeSize(error.maxBodyBytes)}`, 'too-large', status);
      }
      if (timeout.aborted && !signal?.aborted) {
        throw new LangfuseError(`Langfuse did not answer within ${(this.options.timeoutMs ?? 30_000) / 1000} s`, 'unavailable');
      }
      throw unavailable(error, this.redact);
    } finally {
      this.options.onRequest?.({ endpoint, status, ms: performance.now() - started });
    }
  }
}

/** `refused`: what Langfuse turned down — a metrics query, or a write of the Models API */
function statusError(
  status: number,
  body: string,
  retryAfter: string | undefined,
  redact: (text: string) => string,
  now: Date,
  refused: 'query' | 'request',
): LangfuseError {
  const detail = describeBody(body, redact);
  if (status === 401 || status === 403) {
    return new LangfuseError(`Langfuse refused the API keys (HTTP ${status}${detail})`, 'auth', status);
  }
  if (status === 404) return new LangfuseError(`Langfuse has no such endpoint (HTTP 404)`, 'not-found', status);
  if (status === 429) {
    const seconds = parseRetryAfter(retryAfter, now.getTime());
    const when = seconds === undefined ? '' : `; it may be retried in ${formatSeconds(seconds)}`;
    return new LangfuseError(`Langfuse rate limit reached (HTTP 429${when})`, 'rate-limited', status, seconds);
  }
  if (status >= 500 || status === 408) {
    return new LangfuseError(`Langfuse is unavailable (HTTP ${status}${detail})`, 'unavailable', status, parseRetryAfter(retryAfter, now.getTime()));
  }
  return new LangfuseError(`Langfuse rejected the ${refused} (HTTP ${status}${detail})`, 'rejected', status);
}

function unavailable(error: unknown, redact: (text: string) => string): LangfuseError {
  return new LangfuseError(`Langfuse could not be reached (${redact(networkReason(error))})`, 'unavailable');
}

/**
 * Langfuse's own message, redacted before it is cut short so no prefix of a key survives the cut.
 * A schema error ("Invalid request data") says what was wrong in its first issue: that is added.
 */
function describeBody(body: string, redact: (text: string) => string): string {
  try {
    const { message, error } = JSON.parse(body) as { message?: unknown; error?: unknown };
    if (typeof message !== 'string' || message === '') return '';
    const issue = Array.isArray(error) ? (error[0] as { path?: unknown; message?: unknown } | undefined) : undefined;
    const path = Array.isArray(issue?.path) ? issue.path.join('.') : '';
    const detail = typeof issue?.message === 'string' ? ` (${path === '' ? '' : `${path}: `}${issue.message})` : '';
    return `: ${redact(message + detail).slice(0, 300)}`;
  } catch {
    // not JSON: an HTML error page says nothing useful in one line
  }
  return '';
}

/**
 * The rows of a metrics answer, every metric a number or null (integers may arrive as strings). A
 * metric that is not a finite number (`"NaN"`, `1e999` read as Infinity) is a malformed answer.
 */
function parseRows(body: unknown, query: MetricsQuery): MetricsRow[] {
  const data = (body as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) throw new LangfuseError('Langfuse sent a response without a data array', 'bad-response');
  const columns = query.metrics.map(({ measure, aggregation }) => `${aggregation}_${measure}`);
  for (const row of data as MetricsRow[]) {
    for (const column of columns) {
      const value = row?.[column];
      if (value !== null && value !== undefined && !Number.isFinite(Number(value))) {
        throw new LangfuseError(`Langfuse sent a ${column} that is not a finite number`, 'bad-response');
      }
    }
  }
  return data as MetricsRow[];
}

const nullableString = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const nullablePrice = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));

/** One model of an answer; anything without an id, a name and a pattern is a malformed answer. */
function parseModel(body: unknown): ProjectModel {
  const model = body as Record<string, unknown> | null;
  if (typeof model?.['id'] !== 'string' || typeof model['modelName'] !== 'string' || typeof model['matchPattern'] !== 'string') {
    throw new LangfuseError('Langfuse sent a model without an id, a name or a pattern', 'bad-response');
  }
  const prices = [model['inputPrice'], model['outputPrice'], model['totalPrice']].map(nullablePrice);
  if (prices.some((price) => price !== null && !Number.isFinite(price))) {
    throw new LangfuseError('Langfuse sent a model price that is not a finite number', 'bad-response');
  }
  return {
    id: model['id'],
    modelName: model['modelName'],
    matchPattern: model['matchPattern'],
    unit: nullableString(model['unit']),
    inputPrice: prices[0]!,
    outputPrice: prices[1]!,
    totalPrice: prices[2]!,
    startDate: nullableString(model['startDate']),
    tokenizerId: nullableString(model['tokenizerId']),
    isLangfuseManaged: model['isLangfuseManaged'] === true,
  };
}

function parseModelPage(body: unknown): { data: ProjectModel[]; totalPages: number } {
  const { data, meta } = (body ?? {}) as { data?: unknown; meta?: { totalPages?: unknown } };
  if (!Array.isArray(data)) throw new LangfuseError('Langfuse sent a response without a data array', 'bad-response');
  const totalPages = Number(meta?.totalPages);
  if (!Number.isInteger(totalPages)) throw new LangfuseError('Langfuse sent a model list without meta.totalPages', 'bad-response');
  return { data: data.map(parseModel), totalPages };
}
