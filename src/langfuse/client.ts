// A small Langfuse Metrics API client on our own transport: the SDK retries on its own and hides
// Retry-After, and we need both under our control (a Cloud 429 can ask for hours).
import { retryDelayMs, sleep as realSleep, type Sleep } from '../util/backoff.js';
import { networkReason, parseRetryAfter } from '../util/http.js';
import { formatSeconds } from '../util/format-seconds.js';
import { send } from '../net/transport.js';
import { createRedactor, credentialPair, fingerprint } from '../util/redact.js';

export type LangfuseErrorKind = 'auth' | 'rate-limited' | 'unavailable' | 'rejected' | 'bad-response' | 'not-found';

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
  readonly onRequest?: (event: RequestEvent) => void;
  readonly onWarning?: (message: string) => void;
}

const METRICS_PATHS: Record<MetricsApiVersion, string> = {
  v2: '/api/public/v2/metrics',
  v1: '/api/public/metrics',
};

export class LangfuseClient {
  private version: MetricsApiVersion = 'v2';
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
   * Runs a metrics query on v2, falling back to v1 for good when v2 is absent (self-hosted v3).
   * The query is built per version because a few field names differ.
   */
  async metrics(
    build: (version: MetricsApiVersion) => MetricsQuery,
    signal?: AbortSignal,
  ): Promise<{ rows: MetricsRow[]; version: MetricsApiVersion }> {
    const version = this.version;
    const url = `${this.baseUrl}${METRICS_PATHS[version]}?query=${encodeURIComponent(JSON.stringify(build(version)))}`;
    try {
      return { rows: parseRows(await this.getJson(url, `metrics-${version}`, signal)), version };
    } catch (error) {
      if (error instanceof LangfuseError && error.kind === 'not-found' && this.version === 'v2') {
        this.version = 'v1';
        this.options.onWarning?.(
          'Langfuse answered 404 for the v2 Metrics API: using the legacy v1 API (self-hosted Langfuse v3). ' +
            "v1's metadata filter only sees observation metadata, so metadata-filtered alerts may read $0.",
        );
        return this.metrics(build, signal);
      }
      throw error;
    }
  }

  /** The project the keys belong to, for links; null when Langfuse doesn't say. */
  async projectId(signal?: AbortSignal): Promise<string | null> {
    // One attempt: a link is not worth delaying the evaluation that follows.
    const body = await this.getJson(`${this.baseUrl}/api/public/projects`, 'projects', signal, 1);
    const data = (body as { data?: Array<{ id?: unknown }> } | null)?.data;
    const id = Array.isArray(data) ? data[0]?.id : undefined;
    return typeof id === 'string' && id !== '' ? id : null;
  }

  private async getJson(
    url: string,
    endpoint: string,
    signal?: AbortSignal,
    maxAttempts = this.options.maxAttempts ?? 4,
  ): Promise<unknown> {
    const sleep = this.options.sleep ?? realSleep;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.attempt(url, endpoint, signal);
      } catch (error) {
        // cancelled or out of time: the caller's reason, not a Langfuse failure
        if (signal?.aborted) throw signal.reason;
        const failure = error instanceof LangfuseError ? error : unavailable(error, this.redact);
        if (!failure.retryable || attempt >= maxAttempts) throw failure;
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

  private async attempt(url: string, endpoint: string, signal?: AbortSignal): Promise<unknown> {
    const started = performance.now();
    const timeout = AbortSignal.timeout(this.options.timeoutMs ?? 30_000);
    let status = 0;
    try {
      const response = await send({
        method: 'GET',
        url,
        headers: { authorization: this.authorization, accept: 'application/json' },
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      status = response.status;
      if (status < 200 || status >= 300) throw statusError(status, response.body, response.header('retry-after'), this.redact);
      try {
        return JSON.parse(response.body);
      } catch {
        throw new LangfuseError(`Langfuse sent a response that is not JSON (HTTP ${status})`, 'bad-response', status);
      }
    } catch (error) {
      if (error instanceof LangfuseError) throw error;
      if (timeout.aborted && !signal?.aborted) {
        throw new LangfuseError(`Langfuse did not answer within ${(this.options.timeoutMs ?? 30_000) / 1000} s`, 'unavailable');
      }
      throw unavailable(error, this.redact);
    } finally {
      this.options.onRequest?.({ endpoint, status, ms: performance.now() - started });
    }
  }
}

function statusError(status: number, body: string, retryAfter: string | undefined, redact: (text: string) => string): LangfuseError {
  const detail = describeBody(body, redact);
  if (status === 401 || status === 403) {
    return new LangfuseError(`Langfuse refused the API keys (HTTP ${status}${detail})`, 'auth', status);
  }
  if (status === 404) return new LangfuseError(`Langfuse has no such endpoint (HTTP 404)`, 'not-found', status);
  if (status === 429) {
    const seconds = parseRetryAfter(retryAfter);
    const when = seconds === undefined ? '' : `; it may be retried in ${formatSeconds(seconds)}`;
    return new LangfuseError(`Langfuse rate limit reached (HTTP 429${when})`, 'rate-limited', status, seconds);
  }
  if (status >= 500 || status === 408) {
    return new LangfuseError(`Langfuse is unavailable (HTTP ${status}${detail})`, 'unavailable', status, parseRetryAfter(retryAfter));
  }
  return new LangfuseError(`Langfuse rejected the query (HTTP ${status}${detail})`, 'rejected', status);
}

function unavailable(error: unknown, redact: (text: string) => string): LangfuseError {
  return new LangfuseError(`Langfuse could not be reached (${redact(networkReason(error))})`, 'unavailable');
}

/** Langfuse's own message, redacted before it is cut short so no prefix of a key survives the cut. */
function describeBody(body: string, redact: (text: string) => string): string {
  try {
    const message = (JSON.parse(body) as { message?: unknown }).message;
    if (typeof message === 'string' && message !== '') return `: ${redact(message).slice(0, 300)}`;
  } catch {
    // not JSON: an HTML error page says nothing useful in one line
  }
  return '';
}

function parseRows(body: unknown): MetricsRow[] {
  const data = (body as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) throw new LangfuseError('Langfuse sent a response without a data array', 'bad-response');
  return data as MetricsRow[];
}
