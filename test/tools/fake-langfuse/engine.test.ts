// Query-engine behaviour taken from Langfuse's source (packages/shared/src/features/query) that the
// recording does not exercise.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startFakeLangfuse, type FakeLangfuse, type FakeObservation } from '../../../tools/fake-langfuse/server.js';

const base: Omit<FakeObservation, 'id' | 'traceId' | 'startTime'> = {
  type: 'GENERATION',
  traceName: 'chat',
  userId: 'user-1',
  sessionId: null,
  environment: 'production',
  tags: ['team-b', 'beta'],
  release: null,
  traceMetadata: {},
  providedModelName: 'gpt-4o',
  inputCost: 0.5,
  outputCost: 1.5,
  totalCost: 2,
  inputTokens: 300,
  outputTokens: 100,
};

let fake: FakeLangfuse;

beforeAll(async () => {
  fake = await startFakeLangfuse({
    observations: [
      // a trace that started before the queried window, with one call inside it
      { ...base, id: 'early', traceId: 'tr-early', traceTimestamp: '2026-11-24T23:59:00Z', startTime: '2026-11-25T00:01:00Z' },
      { ...base, id: 'late', traceId: 'tr-late', startTime: '2026-11-25T01:00:00Z', tags: ['team-a'], totalCost: 4 },
    ],
  });
});

afterAll(async () => {
  await fake.close();
});

async function query(version: 'v1' | 'v2', q: Record<string, unknown>): Promise<{ status: number; body: unknown }> {
  const auth = Buffer.from(`${fake.publicKey}:${fake.secretKey}`).toString('base64');
  const path = version === 'v2' ? '/api/public/v2/metrics' : '/api/public/metrics';
  const full = { view: 'observations', fromTimestamp: '2026-11-25T00:00:00Z', toTimestamp: '2026-11-25T06:00:00Z', ...q };
  const res = await fetch(`${fake.url}${path}?query=${encodeURIComponent(JSON.stringify(full))}`, {
    headers: { authorization: `Basic ${auth}` },
  });
  return { status: res.status, body: await res.json() };
}

const sumCost = [{ measure: 'totalCost', aggregation: 'sum' }];

describe('beyond the recording', () => {
  test('v1 joins traces inside the window for trace fields; v2 has them on every row', async () => {
    expect(await query('v1', { metrics: sumCost })).toEqual({ status: 200, body: { data: [{ sum_totalCost: 6 }] } });
    expect(await query('v1', { metrics: sumCost, dimensions: [{ field: 'traceName' }] })).toEqual({
      status: 200,
      body: { data: [{ traceName: 'chat', sum_totalCost: 4 }] },
    });
    expect(await query('v2', { metrics: sumCost, dimensions: [{ field: 'traceName' }] })).toEqual({
      status: 200,
      body: { data: [{ traceName: 'chat', sum_totalCost: 6 }] },
    });
  });

  test('arrayOptions none of, and tags grouped as whole sorted arrays', async () => {
    const filters = [{ column: 'tags', type: 'arrayOptions', operator: 'none of', value: ['beta'] }];
    expect((await query('v2', { metrics: sumCost, filters })).body).toEqual({ data: [{ sum_totalCost: 4 }] });
    expect((await query('v2', { metrics: sumCost, dimensions: [{ field: 'tags' }] })).body).toEqual({
      data: [
        { tags: ['team-a'], sum_totalCost: 4 },
        { tags: ['beta', 'team-b'], sum_totalCost: 2 },
      ],
    });
  });

  test('usageByType brings its usageType dimension along', async () => {
    expect((await query('v2', { metrics: [{ measure: 'usageByType', aggregation: 'sum' }] })).body).toEqual({
      data: [
        { usageType: 'total', sum_usageByType: 800 },
        { usageType: 'input', sum_usageByType: 600 },
        { usageType: 'output', sum_usageByType: 200 },
      ],
    });
  });

  test('string measures only count', async () => {
    expect(await query('v2', { metrics: [{ measure: 'traceId', aggregation: 'sum' }] })).toEqual({
      status: 400,
      body: {
        message: 'Aggregation "sum" is not valid for measure "traceId" (type: string). Valid aggregations: count, uniq',
        error: 'InvalidRequestError',
      },
    });
  });

  test('names are looked up as names, not as object properties', async () => {
    const { status, body } = await query('v2', { metrics: sumCost, dimensions: [{ field: 'constructor' }] });
    expect(status).toBe(400);
    expect(body).toMatchObject({ message: expect.stringMatching(/^Invalid dimension constructor\. Must be one of id,/) });
  });

  test('filters of a type the dimension does not take are refused', async () => {
    const filters = [{ column: 'tags', type: 'stringOptions', operator: 'any of', value: ['beta'] }];
    expect(await query('v2', { metrics: sumCost, filters })).toEqual({
      status: 400,
      body: {
        message:
          "Invalid filter for field 'tags': Filter type 'stringOptions' is not supported for dimension type 'string[]'. Expected 'arrayOptions'.",
        error: 'InvalidRequestError',
      },
    });
  });
});
