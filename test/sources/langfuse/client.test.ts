// The Langfuse client and spend source against the fake Langfuse over a real socket: query shape,
// number parsing, retries, Retry-After, v1 fallback.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, onTestFinished, test } from 'vitest';
import { LangfuseClient, LangfuseError } from '../../../src/sources/langfuse/client.js';
import { LangfuseSpendSource } from '../../support/langfuse-spend-source.js';
import { pairKey, TOTAL } from '../../../src/core/query.js';
import { startFakeLangfuse, type FakeLangfuse } from '../../../tools/fake-langfuse/server.js';
import { spend } from '../../support/observations.js';

let fake: FakeLangfuse | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const FROM = new Date('2026-11-24T00:00:00.000Z');
const TO = new Date('2026-11-25T00:00:00.000Z');

async function setup(
  observations = [spend('2026-11-24T10:00:00Z', 3)],
  { clock, ...options }: { v2Enabled?: boolean; stringIntegers?: boolean; clock?: () => Date } = {},
) {
  fake = await startFakeLangfuse({ observations, publicKey: 'pk-test', secretKey: 'sk-test-secret', ...options });
  const sleeps: number[] = [];
  const warnings: string[] = [];
  const client = new LangfuseClient({
    baseUrl: fake.url,
    publicKey: 'pk-test',
    secretKey: 'sk-test-secret',
    timeoutMs: 500,
    maxAttempts: 3,
    sleep: async (ms) => void sleeps.push(ms),
    onWarning: (message) => warnings.push(message),
    ...(clock ? { clock } : {}),
  });
  return { fake, client, source: new LangfuseSpendSource(client), sleeps, warnings };
}

describe('queries', () => {
  test('a window is one v2 query for sum totalCost with an exclusive end', async () => {
    const { fake, source } = await setup([spend('2026-11-24T10:00:00Z', 3), spend('2026-11-25T00:00:00Z', 100)]);
    const reading = await source.spend({ from: FROM, to: TO, filters: {}, shape: TOTAL });
    expect(reading).toEqual({ total: 3, byGroup: null });
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]!.path).toBe('/api/public/v2/metrics');
    expect(fake.requests[0]!.query).toMatchObject({
      view: 'observations',
      metrics: [{ measure: 'totalCost', aggregation: 'sum' }],
      dimensions: [],
      fromTimestamp: '2026-11-24T00:00:00.000Z',
      toTimestamp: '2026-11-24T23:59:59.999Z',
    });
  });

  test('an empty window reads $0 (Langfuse says null)', async () => {
    const { source } = await setup([]);
    expect(await source.spend({ from: FROM, to: TO, filters: {}, shape: TOTAL })).toEqual({ total: 0, byGroup: null });
  });

  test('groupBy model asks for more than the silent 100-row default and keeps the null group', async () => {
    const many = Array.from({ length: 150 }, (_, i) => spend('2026-11-24T10:00:00Z', 1, { model: `model-${i}` }));
    const { fake, source } = await setup([...many, spend('2026-11-24T11:00:00Z', 2, { model: null })]);
    const reading = await source.spend({ from: FROM, to: TO, filters: {}, shape: { kind: 'groups', by: 'model' } });
    expect(reading.byGroup?.size).toBe(151);
    expect(reading.byGroup?.get(null)).toBe(2);
    expect(fake.requests[0]!.query).toMatchObject({ dimensions: [{ field: 'providedModelName' }], config: { row_limit: 1000 } });
  });

  test('a pairs query asks for both fields at once and keys each pair of values, null kept, by pairKey', async () => {
    const { fake, source } = await setup([
      spend('2026-11-24T10:00:00Z', 1, { model: 'gpt-4o', traceName: 'chat' }),
      spend('2026-11-24T11:00:00Z', 2, { model: 'gpt-4o', traceName: 'chat' }),
      spend('2026-11-24T12:00:00Z', 4, { model: 'gpt-4o', traceName: '["a",null]' }),
      spend('2026-11-24T13:00:00Z', 8, { model: null, traceName: 'chat' }),
    ]);
    const reading = await source.spend({ from: FROM, to: TO, filters: {}, shape: { kind: 'pairs', within: 'model', by: 'traceName' } });
    expect(reading.total).toBe(15);
    // v2's root row of every trace: no model, no cost
    expect(reading.byGroup).toEqual(
      new Map([
        [pairKey('gpt-4o', 'chat'), 3],
        [pairKey('gpt-4o', '["a",null]'), 4],
        [pairKey(null, 'chat'), 8],
        [pairKey(null, '["a",null]'), 0],
      ]),
    );
    expect(fake.requests[0]!.query).toMatchObject({ dimensions: [{ field: 'providedModelName' }, { field: 'traceName' }], config: { row_limit: 1000 } });
  });

  test('groupBy userId uses the top-N form v2 demands', async () => {
    const users = Array.from({ length: 8 }, (_, i) => spend('2026-11-24T10:00:00Z', i + 1, { userId: `user-${i}` }));
    const { fake, source } = await setup(users);
    const reading = await source.spend({ from: FROM, to: TO, filters: {}, shape: { kind: 'topN', by: 'userId', n: 3 } });
    expect([...reading.byGroup!.entries()]).toEqual([
      ['user-7', 8],
      ['user-6', 7],
      ['user-5', 6],
    ]);
    expect(fake.requests[0]!.query).toMatchObject({
      orderBy: [{ field: 'sum_totalCost', direction: 'desc' }],
      config: { row_limit: 3 },
    });
    expect(fake.requests[0]!.status).toBe(200);
  });

  test('every filter becomes a Langfuse filter the server accepts', async () => {
    const { fake, source } = await setup([
      spend('2026-11-24T10:00:00Z', 5, { environment: 'production', traceName: 'chat', model: 'gpt-4o', userId: 'u1', tags: ['team-a'], metadata: { agent_type: 'auditor' }, release: '1.5.0' }),
      spend('2026-11-24T10:00:00Z', 7, { environment: 'production', traceName: 'chat', model: 'gpt-4o', userId: 'u1', tags: ['team-b'], metadata: { agent_type: 'auditor' }, release: '1.5.0' }),
    ]);
    const reading = await source.spend({
      from: FROM,
      to: TO,
      filters: { environment: 'production', traceName: ['chat', 'rag'], model: 'gpt-4o', userId: 'u1', release: '1.5.0', tags: ['team-a'], metadata: { agent_type: 'auditor' } },
      shape: TOTAL,
    });
    expect(fake.requests[0]!.status).toBe(200);
    expect(reading.total).toBe(5);
  });

  test('string numbers are parsed', async () => {
    const { source } = await setup([spend('2026-11-24T10:00:00Z', 3)], { stringIntegers: true });
    expect((await source.spend({ from: FROM, to: TO, filters: {}, shape: TOTAL })).total).toBe(3);
  });
});

describe('faults', () => {
  test('429 with Retry-After is honoured, then succeeds', async () => {
    const { fake, source, sleeps } = await setup();
    fake.inject({ kind: 'status', status: 429, retryAfter: 7, body: '{"message":"rate limited"}' });
    expect((await source.spend({ from: FROM, to: TO, filters: {}, shape: TOTAL })).total).toBe(3);
    expect(sleeps).toEqual([7000]);
  });

  test('a Retry-After of hours gives up at once and says when', async () => {
    const { fake, source, sleeps } = await setup();
    fake.inject({ kind: 'status', status: 429, retryAfter: 7200 });
    const error = await source.spend({ from: FROM, to: TO, filters: {}, shape: TOTAL }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LangfuseError);
    expect((error as LangfuseError).message).toBe('Langfuse rate limit reached (HTTP 429; it may be retried in 2.0 h)');
    expect(sleeps).toEqual([]);
  });

  test('500s then success', async () => {
    const { fake, source, sleeps } = await setup();
    fake.inject({ kind: 'status', status: 500, times: 2 });
    expect((await source.spend({ from: FROM, to: TO, filters: {}, shape: TOTAL })).total).toBe(3);
    expect(sleeps).toHaveLength(2);
  });

  test('500s past the attempts fail with a clear error', async () => {
    const { fake, source } = await setup();
    fake.inject({ kind: 'status', status: 503, times: 5 });
    await expect(source.spend({ from: FROM, to: TO, filters: {}, shape: TOTAL })).rejects.toThrow(/^Langfuse is unavailable \(HTTP 503/);
  });

  test.each([
    ['a hanging request', { kind: 'hang' as const }],
    ['a dropped connection', { kind: 'drop' as const }],
    ['malformed JSON', { kind: 'malformed' as const }],
  ])('%s is retried', async (_name, fault) => {
    const { fake, source, sleeps } = await setup();
    fake.inject(fault);
    expect((await source.spend({ from: FROM, to: TO, filters: {}, shape: TOTAL })).total).toBe(3);
    expect(sleeps).toHaveLength(1);
  });

  test('401 is not retried and names the problem', async () => {
    const { fake, source, sleeps } = await setup();
    fake.inject({ kind: 'refuse-auth', times: 5 });
    const error = (await source.spend({ from: FROM, to: TO, filters: {}, shape: TOTAL }).catch((e: unknown) => e)) as LangfuseError;
    expect(error.kind).toBe('auth');
    expect(error.message).toContain('Langfuse refused the API keys (HTTP 401');
    expect(error.message).not.toContain('sk-test-secret');
    expect(sleeps).toEqual([]);
    expect(fake.requests).toHaveLength(1);
  });

  test('a 401 echoing the Authorization header is reported without the keys in any form', async () => {
    const { fake, source } = await setup();
    const pair = 'pk-test:sk-test-secret';
    const basic = Buffer.from(pair).toString('base64');
    fake.inject({ kind: 'echo-auth' });
    // a message longer than what is quoted, with the header across the cut: no prefix of it survives
    fake.inject({ kind: 'status', status: 403, body: JSON.stringify({ message: `${'x'.repeat(270)} Authorization: Basic ${basic}` }) });
    const echoed = (await source.spend({ from: FROM, to: TO, filters: {}, shape: TOTAL }).catch((e: unknown) => e)) as LangfuseError;
    const cut = (await source.spend({ from: FROM, to: TO, filters: {}, shape: TOTAL }).catch((e: unknown) => e)) as LangfuseError;
    expect(echoed.message).toMatch(/^Langfuse refused the API keys \(HTTP 401: Unauthorized: Authorization: Basic \[REDACTED\]/);
    expect(cut.message).toMatch(/^Langfuse refused the API keys \(HTTP 403: x{270} Authorization: Basic \[REDACTE\)$/);
    for (const form of ['pk-test', 'sk-test-secret', pair, basic, basic.slice(0, 6), encodeURIComponent(pair)]) {
      expect(echoed.message).not.toContain(form);
      expect(cut.message).not.toContain(form);
    }
  });

  test('connection refused is retried, then a one-line error', async () => {
    const { client } = await setup();
    const url = fake!.url;
    await fake!.close();
    fake = undefined;
    const source = new LangfuseSpendSource(
      new LangfuseClient({ baseUrl: url, publicKey: 'p', secretKey: 's', maxAttempts: 2, sleep: async () => {} }),
    );
    await expect(source.spend({ from: FROM, to: TO, filters: {}, shape: TOTAL })).rejects.toThrow(/^Langfuse could not be reached \(ECONNREFUSED\)$/);
    expect(client.apiVersion).toBe('v2');
  });
});

describe('answers too large or malformed', () => {
  /** A Langfuse stand-in that answers every request with `body` (and `headers`); counts requests. */
  async function answering(body: Buffer | string, headers: Record<string, string> = {}) {
    let requests = 0;
    const server: Server = createServer((_req, res) => {
      requests += 1;
      res.writeHead(200, { 'content-type': 'application/json', ...headers }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return { url, requests: () => requests };
  }
  const clientFor = (baseUrl: string, options: { maxBodyBytes?: number } = {}) =>
    new LangfuseClient({ baseUrl, publicKey: 'p', secretKey: 's', maxAttempts: 3, sleep: async () => {}, ...options });

  test('a gzip bomb at the real 32 MB limit is refused without a retry', async () => {
    // 40 MB of zeros, 40 KB on the wire
    const peer = await answering(gzipSync(Buffer.alloc(40 << 20)), { 'content-encoding': 'gzip' });
    const error = (await new LangfuseSpendSource(clientFor(peer.url)).spend({ from: FROM, to: TO, filters: {}, shape: TOTAL }).catch((e: unknown) => e)) as LangfuseError;
    expect(error).toBeInstanceOf(LangfuseError);
    expect([error.message, error.kind, error.retryable]).toEqual(['Langfuse answered more than 32 MB', 'too-large', false]);
    expect(peer.requests()).toBe(1);
  });

  test('a plain answer over a smaller limit (an option) is refused the same way', async () => {
    const peer = await answering(JSON.stringify({ data: Array.from({ length: 20_000 }, () => ({ sum_totalCost: 1 })) }));
    const source = new LangfuseSpendSource(clientFor(peer.url, { maxBodyBytes: 64 << 10 }));
    await expect(source.spend({ from: FROM, to: TO, filters: {}, shape: TOTAL })).rejects.toThrow(/^Langfuse answered more than 64 KB$/);
    expect(peer.requests()).toBe(1);
  });

  test.each([
    ['"1e999"', '{"data":[{"sum_totalCost":"1e999"}]}'],
    ['1e999 (Infinity once parsed)', '{"data":[{"sum_totalCost":1e999}]}'],
    ['"NaN"', '{"data":[{"sum_totalCost":"NaN"}]}'],
  ])('a cost of %s is a malformed answer: retried, then an error', async (_name, body) => {
    const { fake, source, sleeps } = await setup();
    fake.inject({ kind: 'status', status: 200, body });
    expect((await source.spend({ from: FROM, to: TO, filters: {}, shape: TOTAL })).total).toBe(3);
    expect(sleeps).toHaveLength(1);
    fake.inject({ kind: 'status', status: 200, body, times: 3 });
    const error = (await source.spend({ from: FROM, to: TO, filters: {}, shape: TOTAL }).catch((e: unknown) => e)) as LangfuseError;
    expect([error.message, error.kind]).toEqual(['Langfuse sent a sum_totalCost that is not a finite number', 'bad-response']);
  });

  test('the top-N form (groupBy userId) treats Infinity the same way', async () => {
    const { fake, source, sleeps } = await setup([spend('2026-11-24T10:00:00Z', 3, { userId: 'u-1' })]);
    fake.inject({ kind: 'status', status: 200, body: '{"data":[{"userId":"u-1","sum_totalCost":"Infinity"}]}' });
    const reading = await source.spend({ from: FROM, to: TO, filters: {}, shape: { kind: 'topN', by: 'userId', n: 5 } });
    expect([...reading.byGroup!.entries()]).toEqual([['u-1', 3]]);
    expect(sleeps).toHaveLength(1);
  });
});

describe('v1 fallback (self-hosted Langfuse v3)', () => {
  test('v2 answering 404 switches to v1, with a warning about metadata filters', async () => {
    const { fake, source, client, warnings } = await setup(
      [spend('2026-11-24T10:00:00Z', 3, { model: 'gpt-4o', release: '1.0' }), spend('2026-11-24T10:00:00Z', 0, { model: 'x' })],
      { v2Enabled: false },
    );
    const reading = await source.spend({ from: FROM, to: TO, filters: {}, shape: { kind: 'groups', by: 'model' } });
    expect(reading.byGroup?.get('gpt-4o')).toBe(3);
    expect(client.apiVersion).toBe('v1');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('metadata');
    const byRelease = await source.spend({ from: FROM, to: TO, filters: { release: '1.0' }, shape: { kind: 'groups', by: 'release' } });
    expect(byRelease.byGroup?.get('1.0')).toBe(3);
    const pairs = await source.spend({ from: FROM, to: TO, filters: {}, shape: { kind: 'pairs', within: 'release', by: 'model' } });
    expect(pairs.byGroup).toEqual(new Map([[pairKey('1.0', 'gpt-4o'), 3], [pairKey(null, 'x'), 0]]));
    expect(fake.requests[3]!.query).toMatchObject({ dimensions: [{ field: 'traceRelease' }, { field: 'providedModelName' }] });
    expect(fake.requests.map((r) => r.path)).toEqual([
      '/api/public/v2/metrics',
      '/api/public/metrics',
      '/api/public/metrics',
      '/api/public/metrics',
    ]);
    expect(fake.requests.map((r) => r.status)).toEqual([404, 200, 200, 200]);
  });

  test('concurrent queries that all meet v2\'s 404 all succeed on v1', async () => {
    const { fake, source, client, warnings } = await setup([spend('2026-11-24T10:00:00Z', 3, { model: 'gpt-4o' })], { v2Enabled: false });
    const readings = await Promise.all([
      source.spend({ from: FROM, to: TO, filters: {}, shape: TOTAL }),
      source.spend({ from: FROM, to: TO, filters: {}, shape: { kind: 'groups', by: 'model' } }),
      source.spend({ from: FROM, to: TO, filters: { model: 'gpt-4o' }, shape: TOTAL }),
      source.spend({ from: FROM, to: TO, filters: {}, shape: { kind: 'topN', by: 'userId', n: 5 } }),
    ]);
    expect(readings.map((r) => r.total)).toEqual([3, 3, 3, 3]);
    expect(client.apiVersion).toBe('v1');
    expect(warnings).toHaveLength(1);
    expect(fake.requests.filter((r) => r.path === '/api/public/v2/metrics').map((r) => r.status)).toEqual([404, 404, 404, 404]);
    expect(fake.requests.filter((r) => r.path === '/api/public/metrics').map((r) => r.status)).toEqual([200, 200, 200, 200]);
  });

  test('one 404 from v2 during a deploy, on a Langfuse whose v1 is off: back on v2 within the same query', async () => {
    const { fake, source, client, warnings } = await setup();
    fake.inject({ kind: 'status', status: 404, path: '/api/public/v2/metrics' });
    fake.inject({ kind: 'status', status: 404, path: '/api/public/metrics', times: 100 });
    expect((await source.spend({ from: FROM, to: TO, filters: {}, shape: TOTAL })).total).toBe(3);
    expect(client.apiVersion).toBe('v2');
    expect(fake.requests.map((r) => `${r.path} ${r.status}`)).toEqual([
      '/api/public/v2/metrics 404',
      '/api/public/metrics 404',
      '/api/public/v2/metrics 200',
    ]);
    expect(warnings[warnings.length - 1]).toBe('Langfuse answers the v2 Metrics API again: using it instead of the legacy v1 API.');
    expect((await source.spend({ from: FROM, to: TO, filters: {}, shape: TOTAL })).total).toBe(3);
    expect(fake.requests.at(-1)!.path).toBe('/api/public/v2/metrics');
  });

  test('on v1, v2 is tried again hourly (injected clock): a Langfuse whose v2 came back is used on v2 again', async () => {
    let now = new Date('2026-11-25T08:00:00Z');
    const { fake, source, client, warnings } = await setup(undefined, { clock: () => now });
    fake.inject({ kind: 'status', status: 404, path: '/api/public/v2/metrics' });
    expect((await source.spend({ from: FROM, to: TO, filters: {}, shape: TOTAL })).total).toBe(3);
    expect(client.apiVersion).toBe('v1');
    now = new Date('2026-11-25T08:59:59Z');
    await source.spend({ from: FROM, to: TO, filters: {}, shape: TOTAL });
    expect(client.apiVersion).toBe('v1');
    now = new Date('2026-11-25T09:00:00Z');
    expect((await source.spend({ from: FROM, to: TO, filters: {}, shape: TOTAL })).total).toBe(3);
    expect(client.apiVersion).toBe('v2');
    expect(fake.requests.map((r) => `${r.path} ${r.status}`)).toEqual([
      '/api/public/v2/metrics 404',
      '/api/public/metrics 200',
      '/api/public/metrics 200',
      '/api/public/v2/metrics 200',
    ]);
    expect(warnings).toHaveLength(2);
  });

  test('a Langfuse whose v2 keeps answering 404 stays on v1: one probe an hour, one warning', async () => {
    let now = new Date('2026-11-25T08:00:00Z');
    const { fake, source, client, warnings } = await setup(undefined, { v2Enabled: false, clock: () => now });
    await source.spend({ from: FROM, to: TO, filters: {}, shape: TOTAL });
    for (const at of ['2026-11-25T08:30:00Z', '2026-11-25T09:00:00Z', '2026-11-25T09:30:00Z', '2026-11-25T10:00:00Z']) {
      now = new Date(at);
      expect((await source.spend({ from: FROM, to: TO, filters: {}, shape: TOTAL })).total).toBe(3);
    }
    expect(client.apiVersion).toBe('v1');
    expect(fake.requests.filter((r) => r.path === '/api/public/v2/metrics')).toHaveLength(3);
    expect(warnings).toHaveLength(1);
  });

  test('v1 failing sends the query to v2 again; a v2 that still 404s leaves v1\'s own error', async () => {
    const { fake, source, client } = await setup(undefined, { v2Enabled: false });
    await source.spend({ from: FROM, to: TO, filters: {}, shape: TOTAL });
    fake.inject({ kind: 'status', status: 503, path: '/api/public/metrics', times: 3 });
    await expect(source.spend({ from: FROM, to: TO, filters: {}, shape: TOTAL })).rejects.toThrow(/^Langfuse is unavailable \(HTTP 503/);
    expect(client.apiVersion).toBe('v1');
    expect(fake.requests.slice(2).map((r) => `${r.path} ${r.status}`)).toEqual([
      '/api/public/metrics 503',
      '/api/public/metrics 503',
      '/api/public/metrics 503',
      '/api/public/v2/metrics 404',
    ]);
    // a 429 on v1 asks for fewer requests: no probe
    fake.inject({ kind: 'status', status: 429, retryAfter: 7200, path: '/api/public/metrics' });
    await expect(source.spend({ from: FROM, to: TO, filters: {}, shape: TOTAL })).rejects.toThrow(/rate limit/);
    expect(fake.requests.at(-1)!.path).toBe('/api/public/metrics');
  });
});

test('projectId comes from /api/public/projects', async () => {
  const { client, fake } = await setup();
  expect(await client.projectId()).toBe(fake.projectId);
});

test('an empty window (a day at its first instant) is $0 without a request', async () => {
  const { fake, source } = await setup();
  expect(await source.spend({ from: TO, to: TO, filters: {}, shape: TOTAL })).toEqual({ total: 0, byGroup: null });
  expect(await source.spend({ from: TO, to: TO, filters: {}, shape: { kind: 'groups', by: 'model' } })).toEqual({ total: 0, byGroup: new Map() });
  expect(fake.requests).toHaveLength(0);
});

describe('the Models API', () => {
  const model = { modelName: 'in-house', matchPattern: '(?i)^(in-house)$', unit: 'TOKENS', inputPrice: 1e-6, outputPrice: 2e-6 } as const;
  const posts = (f: FakeLangfuse) => f.requests.filter((r) => r.method === 'POST');

  test('a POST answered 503 or 429 (nothing done) is retried; a 400 is not', async () => {
    const { fake, client, sleeps } = await setup([]);
    fake.inject({ kind: 'status', status: 503, method: 'POST' });
    fake.inject({ kind: 'status', status: 429, retryAfter: 2, method: 'POST' });
    expect((await client.createModel(model)).modelName).toBe('in-house');
    expect(posts(fake)).toHaveLength(3);
    expect(sleeps[1]).toBe(2000);
    const refused = await client.createModel(model).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(LangfuseError);
    expect((refused as LangfuseError).message).toBe("Langfuse rejected the request (HTTP 400: Model name 'in-house' already exists in project)");
    expect(posts(fake)).toHaveLength(4);
  });

  test('a POST whose answer was lost is not sent again (Langfuse may have created the model)', async () => {
    const { fake, client } = await setup([]);
    fake.inject({ kind: 'drop', method: 'POST' });
    await expect(client.createModel(model)).rejects.toMatchObject({ kind: 'unavailable' });
    expect(posts(fake)).toHaveLength(1);
    expect(fake.customModels()).toHaveLength(1);
  });

  test('a DELETE whose answer was lost is sent again and, the model being gone, is absent; an unknown id is absent', async () => {
    const { fake, client } = await setup([]);
    const created = await client.createModel(model);
    fake.inject({ kind: 'drop', method: 'DELETE' });
    expect(await client.deleteModel(created.id)).toBe('absent');
    expect(fake.requests.filter((r) => r.method === 'DELETE').map((r) => r.status)).toEqual([200, 404]);
    expect(fake.customModels()).toEqual([]);
    expect(await client.deleteModel('no-such-id')).toBe('absent');
  });

  test('the list reads page after page of 100 until meta.totalPages, and refuses an answer without it', async () => {
    const { fake, client } = await setup([]);
    for (let i = 0; i < 201; i++) await client.createModel({ ...model, modelName: `m-${String(i).padStart(3, '0')}` });
    const models = await client.listModels();
    expect(models).toHaveLength(201);
    expect(models.at(-1)).toMatchObject({ modelName: 'm-200', inputPrice: 1e-6, outputPrice: 2e-6, totalPrice: null, isLangfuseManaged: false });
    expect(fake.requests.filter((r) => r.method === 'GET').map((r) => r.path)).toHaveLength(3);
    fake.inject({ kind: 'status', status: 200, body: '{"data": []}', times: 3 });
    await expect(client.listModels()).rejects.toThrow('Langfuse sent a model list without meta.totalPages');
  });
});
