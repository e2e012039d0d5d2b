// The demo's Langfuse-compatible server beyond the recording (test/contract has that): v1's join
// of trace fields at the window's edge, its refusals, and its keys.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startDemoLangfuse, type DemoLangfuse, type DemoObservation } from '../../src/demo/server.js';
import { startFakeLangfuse, type FakeLangfuse } from '../../tools/fake-langfuse/server.js';

const base: Omit<DemoObservation, 'id' | 'traceId' | 'startTime'> = {
  type: 'GENERATION',
  traceName: 'chat',
  userId: 'user-1',
  sessionId: null,
  environment: 'production',
  tags: ['team-b'],
  release: '1.0',
  traceMetadata: { agent_type: 'assistant' },
  providedModelName: 'gpt-4o',
  inputCost: 0.5,
  outputCost: 1.5,
  totalCost: 2,
  inputTokens: 300,
  outputTokens: 100,
};

const observations: DemoObservation[] = [
  // a trace that started before the queried window, with one call inside it
  { ...base, id: 'early', traceId: 'tr-early', traceTimestamp: '2026-11-24T23:59:00Z', startTime: '2026-11-25T00:01:00Z' },
  { ...base, id: 'late', traceId: 'tr-late', startTime: '2026-11-25T01:00:00Z', tags: ['team-a'], totalCost: 4 },
  { ...base, id: 'span', traceId: 'tr-late', type: 'SPAN', startTime: '2026-11-25T01:00:30Z', providedModelName: null, inputCost: null, outputCost: null, totalCost: null },
];

const KEYS = { publicKey: 'pk-lf-demo', secretKey: 'sk-lf-demo' };
let demo: DemoLangfuse;
let fake: FakeLangfuse;

beforeAll(async () => {
  demo = await startDemoLangfuse({ observations, ...KEYS, project: { id: 'demo', name: 'demo', organization: { id: 'o', name: 'o' } } });
  fake = await startFakeLangfuse({ observations, ...KEYS });
});

afterAll(async () => {
  await Promise.all([demo.close(), fake.close()]);
});

async function query(url: string, version: 'v1' | 'v2', q: Record<string, unknown>, keys = KEYS): Promise<{ status: number; body: unknown }> {
  const auth = Buffer.from(`${keys.publicKey}:${keys.secretKey}`).toString('base64');
  const path = version === 'v2' ? '/api/public/v2/metrics' : '/api/public/metrics';
  const full = { view: 'observations', fromTimestamp: '2026-11-25T00:00:00Z', toTimestamp: '2026-11-25T06:00:00Z', ...q };
  const res = await fetch(`${url}${path}?query=${encodeURIComponent(JSON.stringify(full))}`, { headers: { authorization: `Basic ${auth}` } });
  return { status: res.status, body: await res.json() };
}

const sumCost = [{ measure: 'totalCost', aggregation: 'sum' }];

describe('answers as the test fake does', () => {
  test.each([
    ['no trace field', { metrics: sumCost }],
    ['grouped by a trace field', { metrics: sumCost, dimensions: [{ field: 'traceName' }] }],
    ['filtered on a trace field', { metrics: sumCost, filters: [{ column: 'userId', type: 'stringOptions', operator: 'any of', value: ['user-1'] }] }],
    ['filtered on tags', { metrics: sumCost, filters: [{ column: 'tags', type: 'arrayOptions', operator: 'any of', value: ['team-b'] }] }],
    ['tokens and counts by model, hourly', {
      metrics: [...sumCost, { measure: 'totalTokens', aggregation: 'sum' }, { measure: 'count', aggregation: 'count' }],
      dimensions: [{ field: 'providedModelName' }],
      timeDimension: { granularity: 'hour' },
    }],
  ])('on v1 and v2: %s', async (_name, q) => {
    for (const version of ['v1', 'v2'] as const) {
      expect(await query(demo.url, version, q)).toEqual(await query(fake.url, version, q));
    }
  });

  test('v1 takes trace fields from traces inside the window only', async () => {
    expect((await query(demo.url, 'v1', { metrics: sumCost, dimensions: [{ field: 'traceName' }] })).body).toEqual({
      data: [{ traceName: 'chat', sum_totalCost: 4 }],
    });
  });
});

describe('refuses', () => {
  test('what it does not support, saying so', async () => {
    expect(await query(demo.url, 'v2', { metrics: [{ measure: 'latency', aggregation: 'p95' }] })).toEqual({
      status: 400,
      body: { message: 'the demo server does not support the metric "p95" of "latency"', error: 'InvalidRequestError' },
    });
    for (const q of [
      { metrics: sumCost, timeDimension: { granularity: 'day' } },
      { metrics: sumCost, dimensions: [{ field: 'constructor' }] },
      { metrics: sumCost, filters: [{ column: 'constructor', type: 'stringOptions', operator: 'any of', value: ['x'] }] },
      { metrics: [{ measure: 'constructor', aggregation: 'sum' }] },
      { view: 'traces', metrics: sumCost },
    ]) {
      const { status, body } = await query(demo.url, 'v2', q);
      expect(status).toBe(400);
      expect(body).toMatchObject({ message: expect.stringMatching(/^the demo server does not support /) });
    }
  });

  test('v2 user groups other than a top-N, as Langfuse does', async () => {
    const { status } = await query(demo.url, 'v2', { metrics: sumCost, dimensions: [{ field: 'userId' }] });
    expect(status).toBe(400);
    const topN = await query(demo.url, 'v2', {
      metrics: sumCost,
      dimensions: [{ field: 'userId' }],
      orderBy: [{ field: 'sum_totalCost', direction: 'desc' }],
      config: { row_limit: 5 },
    });
    expect(topN).toEqual({ status: 200, body: { data: [{ userId: 'user-1', sum_totalCost: 6 }] } });
  });

  test('other keys', async () => {
    expect((await query(demo.url, 'v2', { metrics: sumCost }, { ...KEYS, secretKey: 'sk-lf-wrong' })).status).toBe(401);
  });
});
