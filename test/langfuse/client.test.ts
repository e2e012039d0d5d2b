// The Langfuse client and spend source against the fake Langfuse over a real socket: query shape,
// number parsing, retries, Retry-After, v1 fallback.
import { afterEach, describe, expect, test } from 'vitest';
import { LangfuseClient, LangfuseError } from '../../src/langfuse/client.js';
import { LangfuseSpendSource } from '../../src/langfuse/spend-source.js';
import { startFakeLangfuse, type FakeLangfuse } from '../../src/fake-langfuse/server.js';
import { spend } from '../support/observations.js';

let fake: FakeLangfuse | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const FROM = new Date('2026-11-24T00:00:00.000Z');
const TO = new Date('2026-11-25T00:00:00.000Z');

async function setup(observations = [spend('2026-11-24T10:00:00Z', 3)], options: { v2Enabled?: boolean; stringIntegers?: boolean } = {}) {
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
  });
  return { fake, client, source: new LangfuseSpendSource(client), sleeps, warnings };
}

describe('queries', () => {
  test('a window is one v2 query for sum totalCost with an exclusive end', async () => {
    const { fake, source } = await setup([spend('2026-11-24T10:00:00Z', 3), spend('2026-11-25T00:00:00Z', 100)]);
    const reading = await source.spend({ from: FROM, to: TO, filters: {} });
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
    expect(await source.spend({ from: FROM, to: TO, filters: {} })).toEqual({ total: 0, byGroup: null });
  });

  test('groupBy model asks for more than the silent 100-row default and keeps the null group', async () => {
    const many = Array.from({ length: 150 }, (_, i) => spend('2026-11-24T10:00:00Z', 1, { model: `model-${i}` }));
    const { fake, source } = await setup([...many, spend('2026-11-24T11:00:00Z', 2, { model: null })]);
    const reading = await source.spend({ from: FROM, to: TO, filters: {}, groupBy: 'model' });
    expect(reading.byGroup?.size).toBe(151);
    expect(reading.byGroup?.get(null)).toBe(2);
    expect(fake.requests[0]!.query).toMatchObject({ dimensions: [{ field: 'providedModelName' }], config: { row_limit: 1000 } });
  });

  test('groupBy userId uses the top-N form v2 demands', async () => {
    const users = Array.from({ length: 8 }, (_, i) => spend('2026-11-24T10:00:00Z', i + 1, { userId: `user-${i}` }));
    const { fake, source } = await setup(users);
    const reading = await source.spend({ from: FROM, to: TO, filters: {}, groupBy: 'userId', top: 3 });
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
    });
    expect(fake.requests[0]!.status).toBe(200);
    expect(reading.total).toBe(5);
  });

  test('string numbers are parsed', async () => {
    const { source } = await setup([spend('2026-11-24T10:00:00Z', 3)], { stringIntegers: true });
    expect((await source.spend({ from: FROM, to: TO, filters: {} })).total).toBe(3);
  });
});

describe('faults', () => {
  test('429 with Retry-After is honoured, then succeeds', async () => {
    const { fake, source, sleeps } = await setup();
    fake.inject({ kind: 'status', status: 429, retryAfter: 7, body: '{"message":"rate limited"}' });
    expect((await source.spend({ from: FROM, to: TO, filters: {} })).total).toBe(3);
    expect(sleeps).toEqual([7000]);
  });

  test('a Retry-After of hours gives up at once and says when', async () => {
    const { fake, source, sleeps } = await setup();
    fake.inject({ kind: 'status', status: 429, retryAfter: 7200 });
    const error = await source.spend({ from: FROM, to: TO, filters: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LangfuseError);
    expect((error as LangfuseError).message).toBe('Langfuse rate limit reached (HTTP 429; it may be retried in 2.0 h)');
    expect(sleeps).toEqual([]);
  });

  test('500s then success', async () => {
    const { fake, source, sleeps } = await setup();
    fake.inject({ kind: 'status', status: 500, times: 2 });
    expect((await source.spend({ from: FROM, to: TO, filters: {} })).total).toBe(3);
    expect(sleeps).toHaveLength(2);
  });

  test('500s past the attempts fail with a clear error', async () => {
    const { fake, source } = await setup();
    fake.inject({ kind: 'status', status: 503, times: 5 });
    await expect(source.spend({ from: FROM, to: TO, filters: {} })).rejects.toThrow(/^Langfuse is unavailable \(HTTP 503/);
  });

  test.each([
    ['a hanging request', { kind: 'hang' as const }],
    ['a dropped connection', { kind: 'drop' as const }],
    ['malformed JSON', { kind: 'malformed' as const }],
  ])('%s is retried', async (_name, fault) => {
    const { fake, source, sleeps } = await setup();
    fake.inject(fault);
    expect((await source.spend({ from: FROM, to: TO, filters: {} })).total).toBe(3);
    expect(sleeps).toHaveLength(1);
  });

  test('401 is not retried and names the problem', async () => {
    const { fake, source, sleeps } = await setup();
    fake.inject({ kind: 'refuse-auth', times: 5 });
    const error = (await source.spend({ from: FROM, to: TO, filters: {} }).catch((e: unknown) => e)) as LangfuseError;
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
    const echoed = (await source.spend({ from: FROM, to: TO, filters: {} }).catch((e: unknown) => e)) as LangfuseError;
    const cut = (await source.spend({ from: FROM, to: TO, filters: {} }).catch((e: unknown) => e)) as LangfuseError;
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
    await expect(source.spend({ from: FROM, to: TO, filters: {} })).rejects.toThrow(/^Langfuse could not be reached \(ECONNREFUSED\)$/);
    expect(client.apiVersion).toBe('v2');
  });
});

describe('v1 fallback (self-hosted Langfuse v3)', () => {
  test('v2 answering 404 switches to v1 for good, with a warning about metadata filters', async () => {
    const { fake, source, client, warnings } = await setup(
      [spend('2026-11-24T10:00:00Z', 3, { model: 'gpt-4o', release: '1.0' }), spend('2026-11-24T10:00:00Z', 0, { model: 'x' })],
      { v2Enabled: false },
    );
    const reading = await source.spend({ from: FROM, to: TO, filters: {}, groupBy: 'model' });
    expect(reading.byGroup?.get('gpt-4o')).toBe(3);
    expect(client.apiVersion).toBe('v1');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('metadata');
    const byRelease = await source.spend({ from: FROM, to: TO, filters: { release: '1.0' }, groupBy: 'release' });
    expect(byRelease.byGroup?.get('1.0')).toBe(3);
    expect(fake.requests.map((r) => r.path)).toEqual([
      '/api/public/v2/metrics',
      '/api/public/metrics',
      '/api/public/metrics',
    ]);
    expect(fake.requests.map((r) => r.status)).toEqual([404, 200, 200]);
  });
});

test('projectId comes from /api/public/projects', async () => {
  const { client, fake } = await setup();
  expect(await client.projectId()).toBe(fake.projectId);
});

test('an empty window (a day at its first instant) is $0 without a request', async () => {
  const { fake, source } = await setup();
  expect(await source.spend({ from: TO, to: TO, filters: {} })).toEqual({ total: 0, byGroup: null });
  expect(await source.spend({ from: TO, to: TO, filters: {}, groupBy: 'model' })).toEqual({ total: 0, byGroup: new Map() });
  expect(fake.requests).toHaveLength(0);
});
