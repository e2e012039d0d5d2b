// The direct transport over real sockets: what a server sends in ways the channel and Langfuse
// tests don't (compressed bodies, connections dropped mid-body, TLS), each answered by a local
// server written for the case.
import { createServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { brotliCompressSync, constants, deflateSync, gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { BodyTooLargeError, nodeTransport, TransportError } from '../../src/net/transport.js';
import { httpRequest } from '../../src/util/http.js';
import { generateSelfSignedCert } from '../support/smtp.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** Starts a server answering with `listener`; its origin. With `tls`, https. */
async function serve(listener: RequestListener, tls?: { cert: string; key: string }): Promise<string> {
  const server = tls ? createHttpsServer(tls, listener) : createServer(listener);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `${tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const never = () => new AbortController().signal;
const get = (url: string, maxBodyBytes = 1 << 20) => nodeTransport({ method: 'GET', url, signal: never(), maxBodyBytes });
const TEXT = 'spend: $12.34 — über budget '.repeat(200);

describe('nodeTransport', () => {
  it.each([
    ['gzip', gzipSync],
    ['deflate', deflateSync],
    ['br', brotliCompressSync],
  ] as const)('asks for compressed bodies and reads %s', async (encoding, compress) => {
    let asked: string | undefined;
    const url = await serve((req, res) => {
      asked = req.headers['accept-encoding'];
      res.writeHead(200, { 'content-encoding': encoding }).end(compress(Buffer.from(TEXT)));
    });
    const response = await get(url);
    expect(asked).toBe('gzip, deflate, br');
    expect(response).toMatchObject({ status: 200, body: TEXT });
  });

  it('refuses a body in an encoding it did not ask for', async () => {
    const url = await serve((_req, res) => res.writeHead(200, { 'content-encoding': 'zstd' }).end('????'));
    await expect(get(url)).rejects.toThrow(new TransportError('the response is encoded as zstd'));
  });

  it('reads headers case-insensitively, repeated ones joined', async () => {
    const url = await serve((_req, res) => {
      res.setHeader('Retry-After', '7');
      res.setHeader('X-Seen', ['a', 'b']);
      res.writeHead(429).end();
    });
    const response = await get(url);
    expect([response.status, response.header('retry-after'), response.header('X-SEEN'), response.header('x-absent')]).toEqual([429, '7', 'a, b', undefined]);
  });

  it('rejects a response whose connection drops before the declared length', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      res.write('{"data":[');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    await expect(get(url)).rejects.toThrow();
  });

  it('rejects a chunked response that ends without its last chunk, also when compressed', async () => {
    const url = await serve((req, res) => {
      const gzip = req.url === '/gzip';
      res.writeHead(200, gzip ? { 'content-encoding': 'gzip' } : {});
      const body = gzip ? gzipSync(Buffer.from(TEXT)) : Buffer.from(TEXT);
      res.write(body.subarray(0, body.length >> 1));
      setTimeout(() => res.socket?.destroy(), 20);
    });
    await expect(get(url)).rejects.toThrow();
    await expect(get(`${url}/gzip`)).rejects.toThrow();
  });

  it('sends the body with its length, and the caller may replace the user agent', async () => {
    let seen: { length?: string; agent?: string; body: string } | undefined;
    const url = await serve((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        seen = { length: req.headers['content-length'], agent: req.headers['user-agent'], body };
        res.end('ok');
      });
    });
    await nodeTransport({ method: 'POST', url, headers: { 'user-agent': 'other' }, body: '{"text":"é"}', signal: never(), maxBodyBytes: 1 << 20 });
    expect(seen).toEqual({ length: '13', agent: 'other', body: '{"text":"é"}' });
  });

  it('sends again on a fresh connection when the kept-alive one turns out closed', async () => {
    // Raw HTTP so the server can do what a real one does at its idle timeout: reset a kept-alive
    // connection just as the client reuses it. Here: the second request on every connection.
    const requests: string[] = [];
    const sockets: Socket[] = [];
    const tcp = createTcpServer((socket: Socket) => {
      const connection = sockets.push(socket);
      let served = 0;
      let buffered = '';
      socket.on('data', (data) => {
        buffered += data.toString();
        while (buffered.includes('\r\n\r\n')) {
          const path = buffered.slice(0, buffered.indexOf('\r\n')).split(' ')[1]!;
          buffered = buffered.slice(buffered.indexOf('\r\n\r\n') + 4);
          requests.push(`${connection}: ${path}`);
          if (++served === 2) return socket.resetAndDestroy();
          socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${path.length}\r\nConnection: keep-alive\r\n\r\n${path}`);
        }
      });
    });
    onTestFinished(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => tcp.close(resolve));
    });
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(tcp.address() as AddressInfo).port}`;
    expect((await get(`${origin}/first`)).body).toBe('/first');
    expect((await get(`${origin}/second`)).body).toBe('/second');
    expect(requests).toEqual(['1: /first', '1: /second', '2: /second']);
  });

  it('refuses a scheme other than http and https', async () => {
    await expect(get('ftp://127.0.0.1/x')).rejects.toThrow(TransportError);
  });
});

describe('the body limit', () => {
  const MB = 1 << 20;

  it('refuses a body that declares more than the limit, and one that streams more without saying', async () => {
    const url = await serve((req, res) => {
      const body = Buffer.alloc(3 * MB, 'x');
      if (req.url === '/declared') res.writeHead(200, { 'content-length': body.length }).end(body);
      else {
        res.writeHead(500);
        for (let i = 0; i < 48; i++) res.write(body.subarray(i * 64 * 1024, (i + 1) * 64 * 1024));
        res.end();
      }
    });
    await expect(get(`${url}/declared`, MB)).rejects.toThrow(new BodyTooLargeError(MB, 200));
    const streamed = await get(`${url}/streamed`, MB).catch((error: unknown) => error);
    expect(streamed).toBeInstanceOf(BodyTooLargeError);
    expect(streamed).toMatchObject({ message: 'the response is larger than 1 MB', status: 500, maxBodyBytes: MB });
  });

  it.each([
    ['gzip', gzipSync],
    ['deflate', deflateSync],
    // quality 1: the default (11) takes seconds to compress 16 MB
    ['br', (input: Buffer) => brotliCompressSync(input, { params: { [constants.BROTLI_PARAM_QUALITY]: 1 } })],
  ] as const)('stops decoding a %s bomb at the limit', async (encoding, compress) => {
    // 16 MB of zeros in a few KB: the limit counts what they decode to
    const bomb = compress(Buffer.alloc(16 * MB));
    expect(bomb.length).toBeLessThan(64 * 1024);
    const url = await serve((_req, res) => res.writeHead(200, { 'content-encoding': encoding, 'content-length': bomb.length }).end(bomb));
    await expect(get(url, MB)).rejects.toThrow(new BodyTooLargeError(MB, 200));
  });

  it('reads a body of exactly the limit', async () => {
    const url = await serve((_req, res) => res.writeHead(200, { 'content-encoding': 'gzip' }).end(gzipSync(Buffer.alloc(64 * 1024, 'a'))));
    expect((await get(url, 64 * 1024)).body).toHaveLength(64 * 1024);
  });
});

describe('httpRequest over https', () => {
  it('refuses a certificate it cannot verify, for good and without the path', async () => {
    const origin = await serve((_req, res) => res.end('ok'), generateSelfSignedCert());
    const result = await httpRequest({ method: 'POST', url: `${origin}/hook/secret`, body: '{}', signal: never(), timeoutMs: 5_000, transport: nodeTransport, clock: () => new Date() });
    expect(result).toMatchObject({ ok: false, retryable: false });
    expect(result.ok === false && result.message).toMatch(/^TLS certificate of https:\/\/127\.0\.0\.1:\d+\/… refused: [A-Z_]+$/);
  });
});
