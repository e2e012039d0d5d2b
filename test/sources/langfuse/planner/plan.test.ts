// The planner's stages without Langfuse: planning and assembling answers are pure functions of
// what an evaluation knows; executing is stood in for by recording answers by hand.
import { describe, expect, test } from 'vitest';
import { TOTAL, type QueryShape, type SpendQuery } from '../../../../src/core/query.js';
import type { AlertFilters } from '../../../../src/config/schema.js';
import { assembleAnswers } from '../../../../src/sources/langfuse/planner/assemble.js';
import { HistoryCache } from '../../../../src/sources/langfuse/planner/cache.js';
import { commitToCache } from '../../../../src/sources/langfuse/planner/commit.js';
import { cacheEntryKey, Evaluation, type FilterSet } from '../../../../src/sources/langfuse/planner/evaluation.js';
import { recordAnswer } from '../../../../src/sources/langfuse/planner/execute.js';
import { requestFields, type Bucket, type SpendRequest } from '../../../../src/sources/langfuse/planner/fetch.js';
import { filterKey, type Dimension } from '../../../../src/sources/langfuse/planner/keys.js';
import { planRequests, type PlannedRequest } from '../../../../src/sources/langfuse/planner/plan.js';
import { lookbacksAt } from '../../../../src/sources/langfuse/planner/settings.js';

const HOUR = 3_600_000;
const at = (iso: string): number => Date.parse(iso);
const PRODUCTION: AlertFilters = { environment: 'production' };
const MODEL: QueryShape = { kind: 'groups', by: 'model' };
const MODEL_TRACES: QueryShape = { kind: 'pairs', within: 'model', by: 'traceName' };

function query(filters: AlertFilters, shape: QueryShape, from: string, to: string): SpendQuery {
  return { filters, shape, from: new Date(from), to: new Date(to) };
}

function evaluation(queries: readonly SpendQuery[], now: string, cache = HistoryCache.inMemory()): Evaluation {
  return new Evaluation(queries, {
    now: at(now),
    lagMarginMs: 15 * 60_000,
    cuts: [0],
    lookbacks: lookbacksAt({ retention: () => queries }, new Date(now)),
    cache,
    version: 'v2',
  });
}

/** Requests as [filters, granularity, from, to, dims], or ['top-N', from, to] */
function describeRequests(requests: readonly PlannedRequest[]): unknown[] {
  return requests.map((planned) =>
    'topN' in planned
      ? ['top-N', planned.topN.query.from.toISOString(), planned.topN.query.to.toISOString()]
      : [planned.set.key, planned.request.granularity, new Date(planned.request.from).toISOString(), new Date(planned.request.to).toISOString(), planned.request.dims],
  );
}

/** One bucket of `usd` per hour (or minute) of the request, in group `value` of every field. */
function buckets(request: SpendRequest, usd: number, value = 'gpt-4o'): Bucket[] {
  const step = request.granularity === 'minute' ? 60_000 : HOUR;
  const result: Bucket[] = [];
  for (let start = request.from; start < request.to; start += step) {
    const groups = new Map<Dimension, Map<string | null, number>>([['', new Map([[null, usd]])]]);
    for (const dim of request.dims) groups.set(dim, new Map([[value, usd]]));
    result.push({ start, count: 1, groups });
  }
  return result;
}

function seriesRequests(requests: readonly PlannedRequest[]): Array<{ set: FilterSet; request: SpendRequest }> {
  return requests.flatMap((planned) => ('set' in planned ? [planned] : []));
}

describe('planning', () => {
  const queries = [
    query({}, TOTAL, '2026-06-09T12:00:00Z', '2026-06-10T12:00:00Z'),
    query({}, MODEL, '2026-06-09T12:00:00Z', '2026-06-10T12:00:00Z'),
    query({}, { kind: 'topN', by: 'userId', n: 3 }, '2026-06-09T12:00:00Z', '2026-06-10T12:00:00Z'),
    query(PRODUCTION, TOTAL, '2026-06-10T00:00:00Z', '2026-06-10T12:00:00Z'),
  ];

  test('cold, on the hour: the top-N first, then the newest first: the open tails in minutes, the history in hours, fields together', () => {
    const cold = evaluation(queries, '2026-06-10T12:00:00Z');
    const { requests, joined } = planRequests(cold, 1);
    expect(describeRequests(requests)).toEqual([
      ['top-N', '2026-06-09T12:00:00.000Z', '2026-06-10T12:00:00.000Z'],
      ['{}', 'minute', '2026-06-10T06:00:00.000Z', '2026-06-10T12:00:00.000Z', ['model']],
      [filterKey(PRODUCTION), 'minute', '2026-06-10T06:00:00.000Z', '2026-06-10T12:00:00.000Z', []],
      [filterKey(PRODUCTION), 'hour', '2026-06-10T00:00:00.000Z', '2026-06-10T06:00:00.000Z', []],
      ['{}', 'hour', '2026-06-09T12:00:00.000Z', '2026-06-10T06:00:00.000Z', ['model']],
    ]);
    expect(joined).toEqual([]);
  });

  test('a pair of fields is a dimension of its own: the same requests, asking for the fields it is made of too', () => {
    const withPairs = evaluation([...queries, query({}, MODEL_TRACES, '2026-06-09T12:00:00Z', '2026-06-10T12:00:00Z')], '2026-06-10T12:00:00Z');
    const { requests } = planRequests(withPairs, 1);
    expect(describeRequests(requests)).toEqual([
      ['top-N', '2026-06-09T12:00:00.000Z', '2026-06-10T12:00:00.000Z'],
      ['{}', 'minute', '2026-06-10T06:00:00.000Z', '2026-06-10T12:00:00.000Z', ['model', 'model>traceName']],
      [filterKey(PRODUCTION), 'minute', '2026-06-10T06:00:00.000Z', '2026-06-10T12:00:00.000Z', []],
      [filterKey(PRODUCTION), 'hour', '2026-06-10T00:00:00.000Z', '2026-06-10T06:00:00.000Z', []],
      ['{}', 'hour', '2026-06-09T12:00:00.000Z', '2026-06-10T06:00:00.000Z', ['model', 'model>traceName']],
    ]);
    expect(seriesRequests(requests).map(({ request }) => requestFields(request))).toEqual([['model', 'traceName'], [], [], ['model', 'traceName']]);
  });

  test('is pure: planning again plans the same, and nothing is recorded or capped', () => {
    const cold = evaluation(queries, '2026-06-10T12:00:00Z');
    const first = describeRequests(planRequests(cold, 1).requests);
    expect(describeRequests(planRequests(cold, 1).requests)).toEqual(first);
    expect([...cold.sets.values()].every((set) => set.fetched.size === 0 && set.exact.size === 0)).toBe(true);
    expect(cold.capped).toBe(false);
  });

  test('an edge between minutes is asked for exactly with every dimension the filter set needs in its hour', () => {
    const warm = evaluation(
      [query({}, TOTAL, '2026-06-10T08:30:00.500Z', '2026-06-10T12:00:00Z'), query({}, MODEL_TRACES, '2026-06-10T06:00:00Z', '2026-06-10T12:00:00Z')],
      '2026-06-10T12:00:00Z',
    );
    for (const { set, request } of seriesRequests(planRequests(warm, 1).requests)) recordAnswer(set, request, buckets(request, 1));
    // the pair's window has no edge there, but a later request for it would have to ask the range again
    expect(describeRequests(planRequests(warm, 3).requests)).toEqual([['{}', null, '2026-06-10T08:30:00.500Z', '2026-06-10T09:00:00.000Z', ['model>traceName']]]);
  });

  test('a 1 ms edge is asked for joined to its neighbouring hour; the plan says so and leaves the window as it was', () => {
    const edge = [query({}, TOTAL, '2026-06-10T08:59:59.999Z', '2026-06-10T12:00:00Z')];
    const warm = evaluation(edge, '2026-06-10T12:00:00Z');
    for (const { set, request } of seriesRequests(planRequests(warm, 1).requests)) recordAnswer(set, request, buckets(request, 1));
    // hour 08 is known in hour buckets only, and the edge is between two minutes: after the upgrade rounds, asked exactly
    const set = warm.sets.get('{}')!;
    const before = set.windows[0];
    const { requests, joined } = planRequests(warm, 3);
    expect(describeRequests(requests)).toEqual([['{}', null, '2026-06-10T08:59:59.999Z', '2026-06-10T10:00:00.000Z', []]]);
    expect(joined).toEqual([{ set, position: 0, window: expect.objectContaining({ wholeFrom: at('2026-06-10T10:00:00Z'), spans: [{ from: at('2026-06-10T08:59:59.999Z'), to: at('2026-06-10T10:00:00Z') }] }) }]);
    expect(set.windows[0]).toBe(before);
  });
});

describe('assembling answers and committing the cache', () => {
  test('readings are cut from the recorded hours; only closed hours are cached, and a later evaluation fetches just the open tail', () => {
    const cache = HistoryCache.inMemory();
    const queries = [query({}, TOTAL, '2026-06-10T00:00:00Z', '2026-06-10T12:00:00Z'), query({}, MODEL, '2026-06-10T09:00:00Z', '2026-06-10T12:00:00Z')];
    const cold = evaluation(queries, '2026-06-10T12:00:00Z', cache);
    for (const { set, request } of seriesRequests(planRequests(cold, 1).requests)) recordAnswer(set, request, buckets(request, request.granularity === 'hour' ? 60 : 1));
    // $60 an hour either way: 12 hours in all, 3 of them for the model
    expect(assembleAnswers(cold)).toEqual([
      { status: 'fulfilled', value: { total: 720, byGroup: null } },
      { status: 'fulfilled', value: { total: 180, byGroup: new Map([['gpt-4o', 180]]) } },
    ]);

    commitToCache(cold);
    // closed: ended at least the lag margin (15 minutes) ago
    expect(cache.get(cacheEntryKey('v2', '', '{}'), at('2026-06-10T10:00:00Z'))).toBeDefined();
    expect(cache.get(cacheEntryKey('v2', '', '{}'), at('2026-06-10T11:00:00Z'))).toBeUndefined();

    const later = evaluation(
      [query({}, TOTAL, '2026-06-10T00:00:00Z', '2026-06-10T13:00:00Z'), query({}, MODEL, '2026-06-10T10:00:00Z', '2026-06-10T13:00:00Z')],
      '2026-06-10T13:00:00Z',
      cache,
    );
    expect(describeRequests(planRequests(later, 1).requests)).toEqual([['{}', 'minute', '2026-06-10T11:00:00.000Z', '2026-06-10T13:00:00.000Z', ['model']]]);
  });

  test('a query whose hours aren’t known fails, naming the range it lacks', () => {
    const [result] = assembleAnswers(evaluation([query({}, TOTAL, '2026-06-10T10:00:00Z', '2026-06-10T12:00:00Z')], '2026-06-10T12:00:00Z'));
    expect(result).toEqual({ status: 'rejected', reason: new Error('the planner has no spend for 2026-06-10T10:00:00.000Z–2026-06-10T11:00:00.000Z') });
  });
});

describe('rows per bucket', () => {
  /** A cache whose entries of the unfiltered set saw these numbers of groups in one hour. */
  function cacheSeeing(groups: Partial<Record<Dimension, number>>): HistoryCache {
    const cache = HistoryCache.inMemory();
    for (const [dim, count] of Object.entries(groups) as Array<[Dimension, number]>) {
      const slice = new Map(Array.from({ length: count }, (_, i): [string, number] => [`value-${i}`, 1]));
      cache.put(cacheEntryKey('v2', dim, '{}'), at('2026-06-10T08:00:00Z'), { count, cuts: [0], slices: [slice] });
    }
    return cache;
  }
  const combinations = (cache: HistoryCache, dims: readonly Dimension[]): number => {
    const warm = evaluation([query({}, TOTAL, '2026-06-10T00:00:00Z', '2026-06-10T12:00:00Z')], '2026-06-10T12:00:00Z', cache);
    return warm.groupCombinations(warm.sets.get('{}')!, dims);
  };

  test('fields multiply; a pair seen counts its own combinations, and its fields are not counted again', () => {
    const cache = cacheSeeing({ model: 4, traceName: 3, environment: 2, 'model>traceName': 5 });
    expect(combinations(cache, ['', 'model', 'traceName'])).toBe(12);
    expect(combinations(cache, ['', 'model', 'model>traceName'])).toBe(5);
    expect(combinations(cache, ['', 'environment', 'model', 'model>traceName'])).toBe(10);
    // a second pair sharing a field adds only its other field
    expect(combinations(cache, ['model>traceName', 'model>environment'])).toBe(10);
  });

  test('a pair not seen yet counts as its fields multiplied, or as the pair where a field was not seen alone', () => {
    expect(combinations(cacheSeeing({ model: 4, traceName: 3 }), ['model', 'model>traceName'])).toBe(12);
    expect(combinations(cacheSeeing({ model: 4, 'environment>traceName': 6 }), ['model', 'environment>traceName', 'model>traceName'])).toBe(24);
    // environment was seen only in its pair with model: at most that many values
    expect(combinations(cacheSeeing({ traceName: 3, 'model>environment': 7 }), ['model>traceName', 'model>environment'])).toBe(21);
    expect(combinations(cacheSeeing({}), ['', 'model>traceName'])).toBe(1);
  });
});

describe('retention', () => {
  test('keeps each filter set and field (or pair of fields) from its earliest query on; a top-N is never cached', () => {
    const lookbacks = lookbacksAt(
      {
        retention: () => [
          query({}, TOTAL, '2026-06-10T00:00:00Z', '2026-06-10T12:00:00Z'),
          query({}, TOTAL, '2026-06-03T00:00:00Z', '2026-06-03T12:00:00Z'),
          query({}, MODEL, '2026-06-09T12:30:00Z', '2026-06-10T12:00:00Z'),
          query({}, MODEL_TRACES, '2026-06-08T00:00:00Z', '2026-06-10T12:00:00Z'),
          query(PRODUCTION, { kind: 'topN', by: 'userId', n: 5 }, '2026-06-01T00:00:00Z', '2026-06-10T12:00:00Z'),
        ],
      },
      new Date('2026-06-10T12:05:00Z'),
    );
    expect(lookbacks).toEqual({
      hour: at('2026-06-10T12:00:00Z'),
      needs: [
        { filters: '{}', dim: '', from: at('2026-06-03T00:00:00Z') },
        { filters: '{}', dim: 'model', from: at('2026-06-09T12:30:00Z') },
        { filters: '{}', dim: 'model>traceName', from: at('2026-06-08T00:00:00Z') },
      ],
    });
  });
});
