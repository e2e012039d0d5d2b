// Outbound HTTP through a proxy: the CLI, as a child process with HTTP_PROXY set, reaches Langfuse
// and a webhook only through a local forward proxy — unless NO_PROXY exempts them.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { startFakeLangfuse, type FakeLangfuse } from '../../src/fake-langfuse/server.js';
import { ProxyConfigError, proxySettings } from '../../src/net/proxy.js';
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
