// One HTTP request with a deadline, classified the way every caller needs it: did the peer accept,
// and if not, is it worth trying again and when. Messages name the peer by scheme://host only,
// because webhook paths and query strings are credentials.
import { BodyTooLargeError, describeSize, type Transport } from '../net/transport.js';
import { createRedactor, safeUrl } from './redact.js';
import { escapeControls } from './terminal.js';

export interface HttpRequest {
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /** the caller's cancellation (shutdown); the request also ends after `timeoutMs` */
  readonly signal: AbortSignal;
  readonly timeoutMs: number;
  /** the largest answer, decoded, read from the peer; default 1 MB */
  readonly maxBodyBytes?: number;
  readonly transport: Transport;
  /** the wall clock, for a Retry-After given as a date */
  readonly clock: () => Date;
}

export type HttpResult =
  | { readonly ok: true; readonly status: number; readonly body: string }
  | {
      readonly ok: false;
      readonly status?: number;
      readonly retryable: boolean;
      /** the peer's Retry-After, in seconds */
      readonly retryAfterSeconds?: number;
      /** safe to print: no userinfo, path or query of the URL */
      readonly message: string;
    };

const MAX_DETAIL_CHARS = 200;
/** a receiver's answer is a word or a short JSON error; anything near this is a misconfigured URL */
const MAX_BODY_BYTES = 1 << 20;

/**
 * The longest wait a Retry-After may ask for: 24 hours. A longer one is read as 24 h, so a typo or
 * a hostile peer (`Retry-After: 99999999999999`) can't stop the worker for weeks or produce a
 * time that is not a date.
 */
export const MAX_RETRY_AFTER_SECONDS = 24 * 3600;

/** Retry-After as delta-seconds or an HTTP-date, at most 24 h; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const trimmed = value.trim();
  // Number() of a long run of digits is Infinity at worst, which the cap turns into 24 h
  if (/^\d+$/.test(trimmed)) return Math.min(MAX_RETRY_AFTER_SECONDS, Number(trimmed));
  // an HTTP-date names its day and month; Date.parse would also take "-5" as a year
  if (!/[a-z]/i.test(trimmed)) return undefined;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(0, Math.ceil((at - now) / 1000)));
}

/**
 * A peer's error body, e.g. Slack's "no_service", as one short printable line: white space (an HTML
 * page's line breaks) collapsed, any other control character shown escaped (`\x1b`).
 */
function detail(body: string): string {
  const text = escapeControls(body.replace(/\s+/g, ' ').trim());
  return text.length > MAX_DETAIL_CHARS ? `${text.slice(0, MAX_DETAIL_CHARS - 1)}…` : text;
}

/**
 * 2xx ok; 408, 429 and 5xx retryable (with Retry-After); every other status permanent, redirects
 * included — a webhook that moved must be reconfigured, and following it would resend a signed
 * body to wherever it points.
 */
export function classifyResponse(status: number, retryAfter: string | undefined, body: string, url: string, now: Date): HttpResult {
  if (status >= 200 && status < 300) return { ok: true, status, body };
  const where = safeUrl(url);
  // a receiver may echo the request back, address included; redacted before it is cut short, so
  // no prefix of the address survives the cut
  const text = detail(createRedactor([url])(body));
  const message =
    status >= 300 && status < 400
      ? `HTTP ${status} from ${where}: redirects are not followed, configure the final URL`
      : `HTTP ${status} from ${where}${text === '' ? '' : `: ${text}`}`;
  const retryable = status === 408 || status === 429 || status >= 500;
  if (!retryable) return { ok: false, status, retryable, message };
  const retryAfterSeconds = parseRetryAfter(retryAfter, now.getTime());
  return retryAfterSeconds === undefined
    ? { ok: false, status, retryable, message }
    : { ok: false, status, retryable, retryAfterSeconds, message };
}

/** The socket error's code (ECONNREFUSED, ENOTFOUND…), else the innermost message. */
export function networkReason(error: unknown): string {
  let reason = error instanceof Error ? error.message : String(error);
  let current: unknown = error;
  // node:http puts the code on the error; undici (behind a proxy) wraps it:
  // TypeError("fetch failed", { cause: { code: "ECONNREFUSED" } })
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth += 1) {
    const { code, message, cause } = current as { code?: unknown; message?: unknown; cause?: unknown };
    if (typeof code === 'string') return code;
    if (typeof message === 'string' && message !== '') reason = message;
    current = cause;
  }
  return reason;
}

export interface RequestFailure {
  readonly url: string;
  readonly timeoutMs: number;
  /** the caller's signal had aborted */
  readonly cancelled: boolean;
  /** the per-request deadline had passed */
  readonly timedOut: boolean;
}

/**
 * The peer's TLS certificate was refused (expired, self-signed, wrong name): a configuration
 * problem that another try in a few seconds won't fix.
 */
export function isCertificateErrorCode(code: string): boolean {
  return /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)/.test(code);
}

// undici's own deadlines (behind a proxy); the abort of our deadline can surface as one of these under load
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT']);

/** A failed request: cancelled, timed out or unreachable are worth another try; a refused certificate is not. */
export function classifyRequestError(error: unknown, failure: RequestFailure): HttpResult {
  const where = safeUrl(failure.url);
  if (failure.cancelled) return { ok: false, retryable: true, message: `request to ${where} was cancelled` };
  const reason = createRedactor([failure.url])(networkReason(error));
  if (failure.timedOut || TIMEOUT_CODES.has(reason)) {
    return { ok: false, retryable: true, message: `no response from ${where} within ${failure.timeoutMs} ms` };
  }
  if (isCertificateErrorCode(reason)) {
    return { ok: false, retryable: false, message: `TLS certificate of ${where} refused: ${reason}` };
  }
  return { ok: false, retryable: true, message: `could not reach ${where}: ${reason}` };
}

/**
 * A peer that answered more than the limit: a status that accepted is an acceptance (its body is
 * not needed, and treating it as a failure would send the notification again); any other is a
 * permanent failure, since another try would only fetch the same body again.
 */
function bodyTooLarge(error: BodyTooLargeError, url: string): HttpResult {
  if (error.status >= 200 && error.status < 300) return { ok: true, status: error.status, body: '' };
  return {
    ok: false,
    status: error.status,
    retryable: false,
    message: `HTTP ${error.status} from ${safeUrl(url)}: answered more than ${describeSize(error.maxBodyBytes)}`,
  };
}

export async function httpRequest(request: HttpRequest): Promise<HttpResult> {
  if (!URL.canParse(request.url)) return { ok: false, retryable: false, message: `invalid URL ${safeUrl(request.url)}` };
  const deadline = AbortSignal.timeout(request.timeoutMs);
  const signal = AbortSignal.any([request.signal, deadline]);
  try {
    // the body is read under the same deadline: a peer that sends headers and then stalls must not hang us
    const { transport, clock, ...outbound } = request;
    const response = await transport({ ...outbound, signal, maxBodyBytes: request.maxBodyBytes ?? MAX_BODY_BYTES });
    return classifyResponse(response.status, response.header('retry-after'), response.body, request.url, clock());
  } catch (error) {
    if (error instanceof BodyTooLargeError) return bodyTooLarge(error, request.url);
    return classifyRequestError(error, {
      url: request.url,
      timeoutMs: request.timeoutMs,
      cancelled: request.signal.aborted,
      timedOut: deadline.aborted,
    });
  }
}
