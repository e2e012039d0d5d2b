import { createServer } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nodeTransport } from '../../src/net/transport.js';
import { classifyResponse, httpRequest, parseRetryAfter } from '../../src/util/http.js';
import { startHttpReceiver, type HttpReceiver } from '../support/http-receiver.js';

let receiver: HttpReceiver;
beforeEach(async () => {
  receiver = await startHttpReceiver();
});
afterEach(async () => {
  await receiver.close();
});

const never = () => new AbortController().signal;

describe('parseRetryAfter', () => {
  it('reads delta-seconds and HTTP-dates, and ignores the unreadable', () => {
    const now = Date.parse('2026-11-24T15:00:00Z');
    expect(parseRetryAfter('30', now)).toBe(30);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Tue, 24 Nov 2026 15:01:30 GMT', now)).toBe(90);
    expect(parseRetryAfter('Tue, 24 Nov 2026 14:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it('caps an absurd wait at 24 hours and never returns a number that is not one', () => {
    const now = Date.parse('2026-11-24T15:00:00Z');
    expect(parseRetryAfter('99999999999999', now)).toBe(86_400);
    expect(parseRetryAfter('3600000', now)).toBe(86_400);
    expect(parseRetryAfter('9'.repeat(400), now)).toBe(86_400);
    expect(parseRetryAfter('Sat, 28 Nov 2026 15:00:00 GMT', now)).toBe(86_400);
    expect(parseRetryAfter('86399', now)).toBe(86_399);
  });
});

describe('classifyResponse', () => {
  const url = 'https://hooks.slack.com/services/T0ABCDEFG/B0HIJKLMN/xYz123SecretToken?x=1';
  const classify = (status: number, body = '', headers: Record<string, string> = {}) =>
    classifyResponse(status, headers['retry-after'], body, url, new Date());

  it('accepts 2xx', () => {
    expect(classify(200, 'ok')).toMatchObject({ ok: true, status: 200, body: 'ok' });
    expect(classify(204)).toMatchObject({ ok: true, status: 204 });
  });

  it('retries 408, 429 and 5xx, keeping Retry-After', () => {
    expect(classify(429, 'rate_limited', { 'retry-after': '12' })).toEqual({
      ok: false,
      status: 429,
      retryable: true,
      retryAfterSeconds: 12,
      message: 'HTTP 429 from https://hooks.slack.com/…: rate_limited',
    });
    expect(classify(503, '', { 'retry-after': 'whenever' })).toEqual({
      ok: false,
      status: 503,
      retryable: true,
      message: 'HTTP 503 from https://hooks.slack.com/…',
    });
    expect(classify(500)).toMatchObject({ retryable: true });
    expect(classify(408)).toMatchObject({ retryable: true });
  });

  it("gives up on other 4xx and redirects, with the peer's reason short and on one line", () => {
    expect(classify(403, 'invalid_token')).toMatchObject({ ok: false, retryable: false, message: 'HTTP 403 from https://hooks.slack.com/…: invalid_token' });
    expect(classify(410, 'channel_is_archived')).toMatchObject({ retryable: false });
    expect(classify(301, '', { location: 'https://elsewhere.example/' })).toMatchObject({
      retryable: false,
      message: 'HTTP 301 from https://hooks.slack.com/…: redirects are not followed, configure the final URL',
    });
    const long = classify(400, `line one\r\nline two ${'x'.repeat(1_000)}`);
    expect(long.ok === false && long.message).toMatch(/^HTTP 400 from https:\/\/hooks\.slack\.com\/…: line one line two x+…$/);
    expect(long.ok === false && long.message.length).toBeLessThan(260);
  });

  it('never repeats the secret parts of the URL, even when the body echoes them', () => {
    const result = classify(400, `no such hook ${url}, token xYz123SecretToken`);
    expect(result.ok === false && result.message).toBe('HTTP 400 from https://hooks.slack.com/…: no such hook [REDACTED], token [REDACTED]');
    expect(result.ok === false && result.message).not.toContain('/services/');
    // the echo across the cut of a long body: no prefix of the token survives
    const cut = classify(400, `${'x'.repeat(190)} token xYz123SecretToken`);
    expect(cut.ok === false && cut.message).toMatch(/x{190} token \[R…$/);
  });

  it("shows the control characters of a peer's answer escaped", () => {
    const result = classify(400, 'bad\u001b]8;;http://evil\u0007\u0000payload');
    expect(result.ok === false && result.message).toBe('HTTP 400 from https://hooks.slack.com/…: bad\\x1b]8;;http://evil\\x07\\x00payload');
  });
});

describe('httpRequest', () => {
  it('posts the body and headers and returns the answer', async () => {
    receiver.enqueue({ status: 200, body: '{"ok":true}' });
    const result = await httpRequest({
      method: 'POST',
      url: receiver.url('/path?q=1'),
      headers: { 'content-type': 'application/json', 'x-extra': 'yes' },
      body: '{"a":1}',
      signal: never(),
      timeoutMs: 5_000,
      transport: nodeTransport, clock: () => new Date(),
    });
    expect(result).toMatchObject({ ok: true, status: 200, body: '{"ok":true}' });
    expect(receiver.requests[0]).toMatchObject({ method: 'POST', path: '/path?q=1', body: '{"a":1}', json: { a: 1 } });
    expect(receiver.requests[0]?.headers['x-extra']).toBe('yes');
    expect(receiver.requests[0]?.headers['user-agent']).toBe('langfuse-spend-alerts');
  });

  it('does not follow redirects', async () => {
    receiver.enqueue({ status: 307, headers: { location: receiver.url('/elsewhere') } });
    const result = await httpRequest({ method: 'POST', url: receiver.url('/hook'), body: 'x', signal: never(), timeoutMs: 5_000, transport: nodeTransport, clock: () => new Date() });
    expect(result).toMatchObject({ ok: false, status: 307, retryable: false });
    expect(receiver.requests.map((r) => r.path)).toEqual(['/hook']);
  });

  it('times out a peer that never answers, as retryable', async () => {
    receiver.enqueue({ hang: true });
    const result = await httpRequest({ method: 'GET', url: receiver.url('/slow/secret'), signal: never(), timeoutMs: 200, transport: nodeTransport, clock: () => new Date() });
    expect(result).toEqual({ ok: false, retryable: true, message: `no response from ${receiver.origin}/… within 200 ms` });
  });

  it("says 'cancelled' when the caller's signal aborts", async () => {
    receiver.enqueue({ hang: true });
    const controller = new AbortController();
    const pending = httpRequest({ method: 'GET', url: receiver.url('/x'), signal: controller.signal, timeoutMs: 600_000, transport: nodeTransport, clock: () => new Date() });
    await receiver.waitForRequests(1);
    controller.abort();
    expect(await pending).toEqual({ ok: false, retryable: true, message: `request to ${receiver.origin}/… was cancelled` });
  });

  it('reports connection refused as retryable with the error code', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer();
      probe.listen(0, '127.0.0.1', () => {
        const address = probe.address();
        probe.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
      });
    });
    const result = await httpRequest({ method: 'GET', url: `http://127.0.0.1:${port}/a/b`, signal: never(), timeoutMs: 5_000, transport: nodeTransport, clock: () => new Date() });
    expect(result).toEqual({ ok: false, retryable: true, message: `could not reach http://127.0.0.1:${port}/…: ECONNREFUSED` });
  });

  it('an error body over 1 MB is a permanent failure naming the peer; a 2xx that says too much still accepted', async () => {
    const url = receiver.url('/hooks/secret-path');
    receiver.enqueue({ status: 500, body: 'e'.repeat(2 * 1024 * 1024) });
    const failed = await httpRequest({ method: 'POST', url, body: '{}', signal: never(), timeoutMs: 5_000, transport: nodeTransport, clock: () => new Date() });
    expect(failed).toEqual({ ok: false, status: 500, retryable: false, message: `HTTP 500 from ${receiver.origin}/…: answered more than 1 MB` });
    receiver.enqueue({ status: 200, body: 'k'.repeat(2 * 1024 * 1024) });
    expect(await httpRequest({ method: 'POST', url, body: '{}', signal: never(), timeoutMs: 5_000, transport: nodeTransport, clock: () => new Date() })).toEqual({ ok: true, status: 200, body: '' });
    receiver.enqueue({ status: 503, body: 'e'.repeat(2048) });
    const small = await httpRequest({ method: 'POST', url, body: '{}', signal: never(), timeoutMs: 5_000, transport: nodeTransport, clock: () => new Date(), maxBodyBytes: 1024 });
    expect(small).toMatchObject({ ok: false, retryable: false, message: `HTTP 503 from ${receiver.origin}/…: answered more than 1 KB` });
  });

  it('refuses an invalid URL for good without echoing it', async () => {
    const result = await httpRequest({ method: 'GET', url: 'not a url /secret', signal: never(), timeoutMs: 5_000, transport: nodeTransport, clock: () => new Date() });
    expect(result).toEqual({ ok: false, retryable: false, message: 'invalid URL (invalid URL)' });
  });
});
