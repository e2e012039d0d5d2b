// Outbound HTTP through a proxy: the CLI, as a child process with HTTP_PROXY set, reaches Langfuse
// and a webhook only through a local forward proxy — unless NO_PROXY exempts them.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, onTestFinished, test } from 'vitest';
import { startFakeLangfuse, type FakeLangfuse } from '../../tools/fake-langfuse/server.js';
import { ProxyConfigError, proxySettings, transportFromEnv } from '../../src/net/proxy.js';
import { BodyTooLargeError, nodeTransport } from '../../src/net/transport.js';
import { spend, startCli } from '../support/cli-process.js';
import { startForwardProxy, type ForwardProxy } from '../support/forward-proxy.js';
import { startHttpReceiver, type HttpReceiver } from '../support/http-receiver.js';

describe('proxySettings', () => {
  test('is undefined without a proxy variable, or with empty ones', () => {
    expect(proxySettings({})).toBeUndefined();
    expect(proxySettings({ HTTP_PROXY: '', NO_PROXY: 'example.com' })).toBeUndefined();
  });

  test('reads either case, lower case first, as curl does', () => {
    expect(proxySettings({ HTTPS_PROXY: 'http://upper:3128', https_proxy: 'http://lower:3128', NO_PROXY: '.internal' })).toEqual({
      httpsProxy: 'http://lower:3128',
      noProxy: '.internal',
    });
    expect(proxySettings({ HTTP_PROXY: 'http://proxy:3128' })).toEqual({ httpProxy: 'http://proxy:3128' });
  });

  test('takes a proxy without a scheme as http://, and refuses one that is no URL without showing it', () => {
    expect(proxySettings({ HTTPS_PROXY: 'proxy.corp:3128' })).toEqual({ httpsProxy: 'http://proxy.corp:3128' });
    expect(() => proxySettings({ HTTPS_PROXY: 'http://user:s3cret@' })).toThrow(
      new ProxyConfigError('HTTPS_PROXY is not a proxy URL such as http://proxy.example.com:3128'),
    );
  });
});

describe('the proxy transport', () => {
  test('stops reading past maxBodyBytes like the direct one, a gzip bomb included', async () => {
    const MB = 1 << 20;
    const proxy = await startForwardProxy();
    const server = createServer((req, res) => {
      if (req.url === '/bomb') res.writeHead(200, { 'content-encoding': 'gzip' }).end(gzipSync(Buffer.alloc(16 * MB)));
      else if (req.url === '/small') res.end('{"ok":true}');
      else {
        res.writeHead(502);
        for (let i = 0; i < 48; i++) res.write(Buffer.alloc(64 * 1024, 'x'));
        res.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(async () => {
      await proxy.close();
      await new Promise((resolve) => server.close(resolve));
    });
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    expect(await transportFromEnv({})).toBe(nodeTransport);
    const send = await transportFromEnv({ HTTP_PROXY: proxy.url });
    const get = (path: string) => send({ method: 'GET', url: `${origin}${path}`, signal: new AbortController().signal, maxBodyBytes: MB });
    await expect(get('/bomb')).rejects.toThrow(new BodyTooLargeError(MB, 200));
    await expect(get('/streamed')).rejects.toMatchObject({ name: 'BodyTooLargeError', status: 502 });
    expect((await get('/small')).body).toBe('{"ok":true}');
    expect(proxy.requests.length).toBeGreaterThan(0);
    expect(new Set(proxy.requests.map((r) => r.target))).toEqual(new Set([new URL(origin).host]));
  });
});

describe('the CLI behind a proxy', () => {
  let dir: string;
  let fake: FakeLangfuse;
  let receiver: HttpReceiver;
  let proxy: ForwardProxy;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'spend-alerts-proxy-'));
    fake = await startFakeLangfuse({ observations: [spend('a', 5)] });
    receiver = await startHttpReceiver();
    proxy = await startForwardProxy();
    await writeFile(
      join(dir, 'alerts.yaml'),
      `langfuse: { baseUrl: "${fake.url}", publicKey: ${fake.publicKey}, secretKey: ${fake.secretKey} }
channels:
  hook: { type: webhook, url: "${receiver.url('/in')}" }
alerts:
  - { name: budget, window: 24h, threshold: 4, channels: [hook] }
`,
    );
  });

  afterEach(async () => {
    await proxy.close();
    await fake.close();
    await receiver.close();
    await rm(dir, { recursive: true, force: true });
  });

  const check = (env: Record<string, string>) =>
    startCli({ args: ['check', '--config', join(dir, 'alerts.yaml'), '--state-dir', join(dir, 'state')], env });

  test('sends Langfuse and webhook requests through HTTP_PROXY', async () => {
    const cli = check({ HTTP_PROXY: proxy.url });
    expect((await cli.exited).code).toBe(0);
    expect(receiver.requests).toHaveLength(1);
    const targets = new Set(proxy.requests.map((r) => r.target));
    expect(targets).toEqual(new Set([new URL(fake.url).host, new URL(receiver.origin).host]));
  });

  test('reads the lower-case http_proxy too', async () => {
    const cli = check({ http_proxy: proxy.url });
    expect((await cli.exited).code).toBe(0);
    expect(new Set(proxy.requests.map((r) => r.target)).size).toBe(2);
  });

  test('leaves hosts in NO_PROXY alone', async () => {
    const cli = check({ HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.1' });
    expect((await cli.exited).code).toBe(0);
    expect(receiver.requests).toHaveLength(1);
    expect(proxy.requests).toEqual([]);
  });
});
