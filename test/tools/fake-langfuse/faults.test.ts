// The fake's own controls, over real sockets: injected faults, old-ClickHouse integers, a Langfuse
// without the v2 endpoint, the request log, and changing data.
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { startFakeLangfuse, type FakeLangfuse, type FakeLangfuseOptions, type FakeObservation } from '../../../tools/fake-langfuse/server.js';
import { generation } from '../../support/observations.js';


const QUERY = {
  view: 'observations',
  metrics: [
    { measure: 'totalCost', aggregation: 'sum' },
    { measure: 'count', aggregation: 'count' },
    { measure: 'totalTokens', aggregation: 'sum' },
  ],
  fromTimestamp: '2026-11-25T00:00:00Z',
  toTimestamp: '2026-11-25T12:00:00Z',
};

let fake: FakeLangfuse;

async function start(options: Partial<FakeLangfuseOptions> = {}): Promise<void> {
  fake = await startFakeLangfuse({ observations: [generation('a', '2026-11-25T10:00:00Z')], ...options });
}

afterEach(async () => {
  await fake.close();
});

function metrics(path = '/api/public/v2/metrics', query: unknown = QUERY, init: RequestInit = {}): Promise<Response> {
  const auth = Buffer.from(`${fake.publicKey}:${fake.secretKey}`).toString('base64');
  return fetch(`${fake.url}${path}?query=${encodeURIComponent(JSON.stringify(query))}`, {
    ...init,
    headers: { authorization: `Basic ${auth}` },
  });
}

describe('without faults', () => {
  beforeEach(() => start());

  test('answers with the default keys, and counts the trace root row in v2 only', async () => {
    expect(await (await metrics()).json()).toEqual({ data: [{ sum_totalCost: 3, count_count: 2, sum_totalTokens: 120 }] });
    expect(await (await metrics('/api/public/metrics')).json()).toEqual({
      data: [{ sum_totalCost: 3, count_count: 1, sum_totalTokens: 120 }],
    });
  });

  test('logs every request with its decoded query and status', async () => {
    await metrics();
    await fetch(`${fake.url}/api/public/v2/metrics?query=nope`);
    expect(fake.requests.map(({ method, path, query, status }) => ({ method, path, query, status }))).toEqual([
      { method: 'GET', path: '/api/public/v2/metrics', query: QUERY, status: 200 },
      { method: 'GET', path: '/api/public/v2/metrics', query: null, status: 401 },
    ]);
    expect(fake.requests[0]?.at).toBeInstanceOf(Date);
  });

  test('serves the data it is given, replaced or added to', async () => {
    fake.setObservations([generation('b', '2026-11-25T11:00:00Z', { totalCost: 5 })]);
    fake.addObservations([generation('c', '2026-11-25T11:30:00Z', { totalCost: 0.25 })]);
    const body = (await (await metrics()).json()) as { data: Array<{ sum_totalCost: number }> };
    expect(body.data[0]?.sum_totalCost).toBe(5.25);
  });

  test('answers the project list with its project id', async () => {
    const auth = Buffer.from(`${fake.publicKey}:${fake.secretKey}`).toString('base64');
    const res = await fetch(`${fake.url}/api/public/projects`, { headers: { authorization: `Basic ${auth}` } });
    expect(await res.json()).toEqual({
      data: [{ id: fake.projectId, name: 'fake', organization: { id: 'fake-org', name: 'Fake Org' }, metadata: {} }],
    });
  });

  test('refuses a Bearer public key on metrics like Langfuse does', async () => {
    const res = await fetch(`${fake.url}/api/public/v2/metrics?query=${encodeURIComponent(JSON.stringify(QUERY))}`, {
      headers: { authorization: `Bearer ${fake.publicKey}` },
    });
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ message: 'Access denied - insufficient permissions for this endpoint' });
  });

  test('says plainly what it does not implement', async () => {
    const res = await metrics('/api/public/v2/metrics', { ...QUERY, metrics: [{ measure: 'latency', aggregation: 'p95' }] });
    expect(res.status).toBe(501);
    expect(await res.json()).toEqual({
      message: "fake-langfuse does not implement the measure 'latency'",
      error: 'NotImplementedError',
    });
  });
});

describe('faults', () => {
  beforeEach(() => start());

  test('status: a 429 with Retry-After, then normal answers again', async () => {
    fake.inject({ kind: 'status', status: 429, retryAfter: 3600, body: '{"message":"Rate limit exceeded"}' });
    const limited = await metrics();
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('3600');
    expect(await limited.json()).toEqual({ message: 'Rate limit exceeded' });
    expect((await metrics()).status).toBe(200);
    expect(fake.requests.map((r) => r.status)).toEqual([429, 200]);
  });

  test('times and path choose which requests a fault hits', async () => {
    fake.inject({ kind: 'status', status: 503, times: 2, path: '/api/public/metrics/' });
    expect((await metrics()).status).toBe(200);
    expect((await metrics('/api/public/metrics')).status).toBe(503);
    expect((await metrics('/api/public/metrics')).status).toBe(503);
    expect((await metrics('/api/public/metrics')).status).toBe(200);
  });

  test('clearFaults drops the faults not yet used', async () => {
    fake.inject({ kind: 'status', status: 500, times: 5 });
    fake.clearFaults();
    expect((await metrics()).status).toBe(200);
  });

  test('delay: answers normally, late', async () => {
    // the delay is waited out with the injected sleep, which holds the answer until the test wakes it
    const slept: number[] = [];
    let fellAsleep!: () => void;
    const asleep = new Promise<void>((resolve) => (fellAsleep = resolve));
    let wake!: () => void;
    await fake.close();
    await start({
      sleep: (ms) => {
        slept.push(ms);
        fellAsleep();
        return new Promise((resolve) => (wake = resolve));
      },
    });
    fake.inject({ kind: 'delay', ms: 300 });
    const pending = metrics();
    await asleep;
    expect(slept).toEqual([300]);
    expect(fake.requests).toEqual([]);
    wake();
    const res = await pending;
    expect(res.status).toBe(200);
    expect(fake.requests.map((r) => r.status)).toEqual([200]);
  });

  test('hang: never answers, until the client gives up', async () => {
    fake.inject({ kind: 'hang' });
    await expect(metrics('/api/public/v2/metrics', QUERY, { signal: AbortSignal.timeout(200) })).rejects.toThrow(
      /aborted|timeout/i,
    );
    expect(fake.requests[0]?.status).toBe(0);
    expect((await metrics()).status).toBe(200);
  });

  test('hang: close() ends hanging requests', async () => {
    fake.inject({ kind: 'hang' });
    const pending = metrics();
    await expect.poll(() => fake.requests.length).toBe(1);
    await fake.close();
    await expect(pending).rejects.toThrow();
    await start();
  });

  test('drop: the connection dies in the middle of the body', async () => {
    fake.inject({ kind: 'drop' });
    await expect(
      (async () => {
        const res = await metrics();
        return res.text();
      })(),
    ).rejects.toThrow();
  });

  test('malformed: a 200 whose body is not JSON', async () => {
    fake.inject({ kind: 'malformed' });
    const res = await metrics();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    await expect(res.json()).rejects.toThrow(SyntaxError);
  });

  test('refuse-auth: a 401 whatever the credentials', async () => {
    fake.inject({ kind: 'refuse-auth' });
    const res = await metrics();
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ message: "Invalid credentials. Confirm that you've configured the correct host." });
  });
});

describe('options', () => {
  test('stringIntegers: counts and token sums come as strings, costs as numbers', async () => {
    await start({ stringIntegers: true });
    expect(await (await metrics()).json()).toEqual({ data: [{ sum_totalCost: 3, count_count: '2', sum_totalTokens: '120' }] });
    const empty = await metrics('/api/public/v2/metrics', { ...QUERY, metrics: [] });
    expect(await empty.json()).toEqual({ data: [{ count: '2' }] });
  });

  test('v2Enabled false: v2 is an HTML 404 like self-hosted Langfuse v3, v1 still answers', async () => {
    await start({ v2Enabled: false });
    const v2 = await metrics();
    expect(v2.status).toBe(404);
    expect(v2.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const v1 = await metrics('/api/public/metrics');
    expect(v1.status).toBe(200);
    expect(await v1.json()).toEqual({ data: [{ sum_totalCost: 3, count_count: 1, sum_totalTokens: 120 }] });
  });

  test('keys, project and port are configurable', async () => {
    await start({ publicKey: 'pk-x', secretKey: 'sk-x', projectId: 'proj-x' });
    expect(fake).toMatchObject({ publicKey: 'pk-x', secretKey: 'sk-x', projectId: 'proj-x' });
    expect(fake.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await metrics()).status).toBe(200);
  });
});
