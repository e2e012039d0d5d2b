// The fake answers queries with two dimensions as Langfuse does (the planner's requests for a
// pair of fields): a row per combination of values in each bucket, null kept as null, 64-bit
// integers as strings when asked, and v2's 100-row default unless `row_limit` says otherwise.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startFakeLangfuse, type FakeLangfuse, type FakeObservation } from '../../../tools/fake-langfuse/server.js';
import { generation as observation } from '../../support/observations.js';

const generation = (id: string, traceId: string, traceName: string, startTime: string, model: string | null, totalCost: number): FakeObservation =>
  observation(id, startTime, { traceId, traceName, providedModelName: model, inputCost: totalCost / 2, outputCost: totalCost / 2, totalCost, inputTokens: 10, outputTokens: 10 });

const OBSERVATIONS: FakeObservation[] = [
  generation('a', 't1', 'chat', '2026-11-25T00:10:00Z', 'gpt-4o', 1),
  generation('d', 't1', 'chat', '2026-11-25T01:05:00Z', 'gpt-4o', 4),
  generation('b', 't2', 'rag "x"', '2026-11-25T00:20:00Z', 'gpt-4o', 2),
  generation('c', 't3', 'chat', '2026-11-25T00:30:00Z', null, 0.5),
  // a day of 120 traces, each of its own name: 240 rows with their root rows
  ...Array.from({ length: 120 }, (_, i) => generation(`many-${i}`, `tm-${i}`, `name-${i}`, `2026-11-26T00:${String(i % 60).padStart(2, '0')}:00Z`, 'gpt-4o', 1)),
];

let fake: FakeLangfuse;
let stringly: FakeLangfuse;

beforeAll(async () => {
  fake = await startFakeLangfuse({ observations: OBSERVATIONS });
  stringly = await startFakeLangfuse({ observations: OBSERVATIONS, stringIntegers: true });
});

afterAll(async () => {
  await fake.close();
  await stringly.close();
});

async function rows(server: FakeLangfuse, q: Record<string, unknown>): Promise<Array<Record<string, unknown>>> {
  const auth = Buffer.from(`${server.publicKey}:${server.secretKey}`).toString('base64');
  const query = {
    view: 'observations',
    metrics: [
      { measure: 'totalCost', aggregation: 'sum' },
      { measure: 'count', aggregation: 'count' },
    ],
    dimensions: [{ field: 'providedModelName' }, { field: 'traceName' }],
    filters: [],
    ...q,
  };
  const res = await fetch(`${server.url}/api/public/v2/metrics?query=${encodeURIComponent(JSON.stringify(query))}`, { headers: { authorization: `Basic ${auth}` } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { data: Array<Record<string, unknown>> }).data;
}

const HOURLY = {
  fromTimestamp: '2026-11-25T00:00:00.000Z',
  toTimestamp: '2026-11-25T01:59:59.999Z',
  timeDimension: { granularity: 'hour' },
  orderBy: [{ field: 'time_dimension', direction: 'asc' }],
  config: { row_limit: 1000 },
};

const byJson = (a: unknown, b: unknown): number => JSON.stringify(a).localeCompare(JSON.stringify(b));

describe('two dimensions', () => {
  test('a row per bucket and pair of values; v2 root rows (no model, no cost) count as null-model rows', async () => {
    const row = (hour: string, model: string | null, traceName: string, cost: number, count: number) => ({
      providedModelName: model,
      traceName,
      time_dimension: `2026-11-25T${hour}:00:00Z`,
      sum_totalCost: cost,
      count_count: count,
    });
    expect((await rows(fake, HOURLY)).sort(byJson)).toEqual(
      [
        row('00', 'gpt-4o', 'chat', 1, 1),
        row('00', 'gpt-4o', 'rag "x"', 2, 1),
        // generation c, and the roots of traces t1 and t3
        row('00', null, 'chat', 0.5, 3),
        row('00', null, 'rag "x"', 0, 1),
        row('01', 'gpt-4o', 'chat', 4, 1),
      ].sort(byJson),
    );
  });

  test('counts as strings from a ClickHouse before 25.8', async () => {
    const counts = (await rows(stringly, HOURLY)).map((data) => data['count_count']);
    expect(counts.sort()).toEqual(['1', '1', '1', '1', '3']);
  });

  test('v2 keeps 100 rows unless row_limit asks for more', async () => {
    const day = { fromTimestamp: '2026-11-26T00:00:00.000Z', toTimestamp: '2026-11-26T23:59:59.999Z' };
    expect(await rows(fake, day)).toHaveLength(100);
    const all = await rows(fake, { ...day, config: { row_limit: 1000 } });
    expect(all).toHaveLength(240);
    expect(new Set(all.map((data) => data['providedModelName']))).toEqual(new Set(['gpt-4o', null]));
  });
});
