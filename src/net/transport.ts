// Every outbound HTTP request (Langfuse, Slack, webhooks) goes through a Transport, which the CLI
// builds once and passes down. Directly it uses Node's http/https clients rather than fetch: fetch parses responses with a WebAssembly build of
// llhttp that V8 compiles at the first request — ~30 MB of compiler memory, ~10–15 MB of it still
// resident while the daemon idles — for the handful of requests an evaluation makes, while
// node:http's parser is part of Node. Behind a proxy, src/net/proxy.ts builds one on undici's
// fetch instead, whose EnvHttpProxyAgent does tunnelling and NO_PROXY.
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { pipeline } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';

export interface OutboundRequest {
  readonly method: 'GET' | 'POST' | 'DELETE';
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /** ends the request, the body's reading included */
  readonly signal: AbortSignal;
  /**
   * the most body, decoded, the caller will take: past it the reading stops with a
   * BodyTooLargeError, so a huge answer or a compression bomb can't exhaust memory
   */
  readonly maxBodyBytes: number;
}

export interface OutboundResponse {
  readonly status: number;
  header(name: string): string | undefined;
  readonly body: string;
}

/** Sends one request, follows no redirect, and rejects only when no complete response arrived. */
export type Transport = (request: OutboundRequest) => Promise<OutboundResponse>;

export const USER_AGENT = 'langfuse-spend-alerts';

/** Headers every request carries unless the caller sets them: receivers' logs and allowlists can tell us apart. */
export function defaultHeaders(request: OutboundRequest): Record<string, string> {
  return { 'user-agent': USER_AGENT, ...request.headers };
}

const DECODERS: Readonly<Record<string, () => NodeJS.ReadWriteStream>> = {
  gzip: createGunzip,
  'x-gzip': createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
};

/** A response this transport can't read, or a URL it can't send to. */
export class TransportError extends Error {
  override name = 'TransportError';
}

/** The response's body, decoded, is larger than the request's `maxBodyBytes`: reading stopped there. */
export class BodyTooLargeError extends TransportError {
  override name = 'BodyTooLargeError';
  constructor(
    readonly maxBodyBytes: number,
    /** the status the peer answered with */
    readonly status: number,
  ) {
    super(`the response is larger than ${describeSize(maxBodyBytes)}`);
  }
}

/** `32 MB`, `1 MB`, `64 KB`, `100 bytes`. */
export function describeSize(bytes: number): string {
  if (bytes >= 1 << 20 && bytes % (1 << 20) === 0) return `${bytes / (1 << 20)} MB`;
  if (bytes >= 1 << 10 && bytes % (1 << 10) === 0) return `${bytes / (1 << 10)} KB`;
  return `${bytes} bytes`;
}

/**
 * Collects a body, decoded, as it streams in, and stops at `maxBodyBytes`: what a huge answer or
 * a compression bomb costs is bounded by the limit, not by what the peer sends. `stop` ends the
 * transfer. A body that declares a larger length up front is refused before it is read.
 */
export async function collectBody(
  chunks: AsyncIterable<Uint8Array>,
  limits: { maxBodyBytes: number; status: number; declaredBytes: number | undefined; stop: () => void },
): Promise<string> {
  const tooLarge = () => {
    limits.stop();
    return new BodyTooLargeError(limits.maxBodyBytes, limits.status);
  };
  if (limits.declaredBytes !== undefined && limits.declaredBytes > limits.maxBodyBytes) throw tooLarge();
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of chunks) {
    size += chunk.byteLength;
    if (size > limits.maxBodyBytes) throw tooLarge();
    parts.push(chunk);
  }
  return Buffer.concat(parts).toString('utf8');
}

/** The body's length as the peer declared it, when it is not compressed (then it is the decoded length). */
export function declaredLength(contentLength: string | null | undefined, encoding: string): number | undefined {
  if (encoding !== 'identity' || contentLength === null || contentLength === undefined || !/^\d+$/.test(contentLength.trim())) return undefined;
  return Number(contentLength);
}

async function readBody(response: IncomingMessage, maxBodyBytes: number): Promise<string> {
  const encoding = (response.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  const decoder = encoding === 'identity' ? undefined : DECODERS[encoding];
  if (encoding !== 'identity' && decoder === undefined) {
    response.destroy();
    throw new TransportError(`the response is encoded as ${encoding}`);
  }
  // pipeline passes a dropped connection or an abort on to the decoder, so the loop below throws
  const source = (decoder === undefined ? response : pipeline(response, decoder(), () => {})) as AsyncIterable<Buffer>;
  return collectBody(source, {
    maxBodyBytes,
    status: response.statusCode ?? 0,
    declaredBytes: declaredLength(response.headers['content-length'], encoding),
    stop: () => response.destroy(),
  });
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
}

export const nodeTransport: Transport = async (request) => {
  const url = new URL(request.url);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TransportError(`${url.protocol} is not http: or https:`);
  const headers: Record<string, string> = { 'accept-encoding': 'gzip, deflate, br', ...defaultHeaders(request) };
  if (request.body !== undefined) headers['content-length'] = String(Buffer.byteLength(request.body));
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    const attempt = (retried: boolean): void => {
      let answered = false;
      const outgoing = send(url, { method: request.method, headers, signal: request.signal }, (incoming) => {
        answered = true;
        resolve(incoming);
      });
      outgoing.on('error', (error: NodeJS.ErrnoException) => {
        // A kept-alive connection the server closed just as it was reused: the request never
        // reached it, and Node's documented remedy is one more try on a fresh connection.
        if (!answered && !retried && outgoing.reusedSocket && error.code === 'ECONNRESET' && !request.signal.aborted) attempt(true);
        // also after the response began: an abort then reaches the body, which readBody reports
        else reject(error);
      });
      outgoing.end(request.body);
    };
    attempt(false);
  });
  const body = await readBody(response, request.maxBodyBytes);
  return { status: response.statusCode ?? 0, header: (name) => headerValue(response.headers, name), body };
};
