// The planner never changes a number: for every window, zone and grouping (pairs of fields, a
// series' contributors, among them), its readings equal the unplanned source's (one request per
// query), evaluation after evaluation, with the history cache filling up in between.
import { afterEach, describe, expect, test } from 'vitest';
import type { FakeObservation } from '../../../../tools/fake-langfuse/server.js';
import { alertQueries } from '../../../../src/core/alert-queries.js';
import type { SpendQuery } from '../../../../src/core/query.js';
import { wallClock, zonedInstant } from '../../../../src/core/time/zone.js';
import { spend } from '../../../support/observations.js';
import { expectSameResults, plannerFixture, randomSpend, type PlannerFixture } from './support.js';

const ALERTS = `
alerts:
  - { name: day, window: day, threshold: 1, channels: [terminal] }
  - { name: week, window: week, threshold: 1, channels: [terminal] }
  - { name: month, window: month, threshold: 1, channels: [terminal] }
  - { name: hour, window: 1h, threshold: 1, channels: [terminal] }
  - { name: rolling-day, window: 24h, threshold: 1, channels: [terminal] }
  - { name: rolling-week, window: 7d, threshold: 1, channels: [terminal] }
  - { name: day-spike, window: day, relative: { factor: 2, baseline: 7 }, channels: [terminal] }
  - { name: rolling-spike, window: 24h, relative: { factor: 2, baseline: 3 }, channels: [terminal] }
  - { name: week-spike, window: week, relative: { factor: 2, baseline: 2 }, channels: [terminal] }
  - { name: month-spike, window: month, relative: { factor: 2, baseline: 2 }, channels: [terminal] }
  - { name: models, window: 24h, groupBy: model, threshold: 1, channels: [terminal] }
  - { name: envs, window: day, groupBy: environment, relative: { factor: 2, baseline: 3 }, channels: [terminal] }
  - { name: prod-models, window: week, groupBy: model, threshold: 1, filters: { environment: production }, channels: [terminal] }
  - { name: prod-day, window: day, threshold: 1, filters: { environment: [production] }, channels: [terminal] }
  - { name: rag-hour, window: 3h, threshold: 1, filters: { traceName: [rag_query, summarize] }, channels: [terminal] }
  - { name: users, window: 24h, groupBy: userId, top: 5, threshold: 1, channels: [terminal] }
`;

let fixture: PlannerFixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

/** Spend exactly on the edges the windows at these times cut at, where an off-by-one would show. */
function edgeSpend(nows: readonly Date[], timezone: string): FakeObservation[] {
  return nows.flatMap((now) => {
    const at = now.getTime();
    const local = wallClock(now, timezone);
    const midnight = zonedInstant({ year: local.year, month: local.month, day: local.day }, timezone).getTime();
    return [at - 1, at - 3_600_000, at - 86_400_000, at - 86_400_000 - 1, at - 7 * 86_400_000, midnight, midnight - 1, midnight - 86_400_000].map(
      (ms, i) => spend(new Date(ms), 0.5 + i / 100, { model: i % 2 === 0 ? 'gpt-4o' : null, environment: 'production', traceName: 'rag_query' }),
    );
  });
}

/**
 * Trace names and models that JSON, pair keys and group keys could trip over, null among them,
 * at random instants: a pair's values must come back exactly as Langfuse sent them.
 */
function awkwardSpend(from: string, to: string, count: number, seed: number): FakeObservation[] {
  const names = ['["chat",null]', 'a>b', 'quote " and \\ backslash', '<!here> & <b>', 'null', ' ', 'émoji 💸'];
  const models = ['gpt-4o', null, '["gpt-4o","x"]', 'model>traceName'];
  return randomSpend(from, to, count, seed).map((observation, i) => ({
    ...observation,
    traceName: i % 11 === 0 ? null : names[i % names.length]!,
    providedModelName: models[i % models.length]!,
    release: i % 3 === 0 ? null : `v${i % 2}`,
  }));
}

/**
 * The alerts' queries with, on the same filter sets and ranges, the contributors a firing series
 * would ask for: per groupBy series its trace names (and releases, mostly null), per total its
 * environments' models.
 */
function withPairs(queries: readonly SpendQuery[]): SpendQuery[] {
  return queries.flatMap((query): SpendQuery[] => {
    const { shape } = query;
    if (shape.kind === 'groups') {
      return [query, { ...query, shape: { kind: 'pairs', within: shape.by, by: 'traceName' } }, { ...query, shape: { kind: 'pairs', within: shape.by, by: 'release' } }];
    }
    if (shape.kind === 'total') return [query, { ...query, shape: { kind: 'pairs', within: 'environment', by: 'model' } }];
    return [query];
  });
}

async function expectAgreement(timezone: string, nows: readonly Date[], observations: FakeObservation[]): Promise<void> {
  const from = new Date(nows[0]!.getTime() - 10 * 86_400_000).toISOString();
  const awkward = awkwardSpend(from, nows[nows.length - 1]!.toISOString(), 400, 7);
  fixture = await plannerFixture(`timezone: ${timezone}\n${ALERTS}`, [...observations, ...awkward, ...edgeSpend(nows, timezone)]);
  const planned = fixture.planned();
  for (const now of nows) {
    const queries = withPairs(alertQueries(fixture.config.alerts, now, timezone));
    const [mine, theirs] = [await planned.spendAll(queries), await fixture.naive.spendAll(queries)];
    expectSameResults(queries, mine, theirs, `${timezone} at ${now.toISOString()}`);
  }
  // Restarted on the cache the evaluations left: still the same numbers.
  const restarted = fixture.planned();
  const last = nows[nows.length - 1]!;
  const queries = withPairs(alertQueries(fixture.config.alerts, last, timezone));
  expectSameResults(queries, await restarted.spendAll(queries), await fixture.naive.spendAll(queries), `${timezone} at ${last.toISOString()}, restarted`);
}

const ticks = (start: string, count: number, stepMinutes: number): Date[] =>
  Array.from({ length: count }, (_, i) => new Date(Date.parse(start) + i * stepMinutes * 60_000));

describe('planned readings equal one request per query', () => {
  test('UTC: quarter-hour ticks, a month end, and times between minutes', async () => {
    const nows = [
      ...ticks('2026-03-30T22:00:00Z', 6, 15),
      new Date('2026-03-31T01:07:00Z'),
      new Date('2026-03-31T01:07:31.337Z'),
      ...ticks('2026-03-31T23:45:00Z', 3, 15),
      new Date('2026-04-01T02:10:59.999Z'),
    ];
    await expectAgreement('UTC', nows, randomSpend('2026-01-15T00:00:00Z', '2026-04-01T03:00:00Z', 3000, 1));
  });

  test('America/New_York across both DST changes', async () => {
    const nows = [
      ...ticks('2026-03-08T05:00:00Z', 4, 15), // local midnight of the 23-hour day
      new Date('2026-03-08T18:15:00Z'),
      new Date('2026-03-09T04:59:59.999Z'),
      ...ticks('2026-03-09T13:00:00Z', 3, 15),
      ...ticks('2026-11-01T05:30:00Z', 4, 15), // 01:30 local, shown twice
      new Date('2026-11-01T06:45:00Z'),
      new Date('2026-11-02T14:00:00.250Z'),
    ];
    const observations = [
      ...randomSpend('2026-01-01T00:00:00Z', '2026-03-10T00:00:00Z', 1500, 2),
      ...randomSpend('2026-08-25T00:00:00Z', '2026-11-03T00:00:00Z', 1500, 3),
    ];
    await expectAgreement('America/New_York', nows, observations);
  });

  test('Asia/Kolkata (+5:30): midnight falls half past a UTC hour', async () => {
    const nows = [...ticks('2026-05-31T18:15:00Z', 4, 15), ...ticks('2026-06-01T04:30:00Z', 3, 15), new Date('2026-06-01T04:59:17.003Z')];
    await expectAgreement('Asia/Kolkata', nows, randomSpend('2026-03-20T00:00:00Z', '2026-06-01T06:00:00Z', 3000, 4));
  });

  test('Asia/Kathmandu (+5:45): midnight falls a quarter past a UTC hour', async () => {
    const nows = [...ticks('2026-06-07T18:00:00Z', 5, 15), new Date('2026-06-08T06:20:00Z'), new Date('2026-06-08T06:20:42.5Z')];
    await expectAgreement('Asia/Kathmandu', nows, randomSpend('2026-03-25T00:00:00Z', '2026-06-08T07:00:00Z', 3000, 5));
  });

  test('an edge between two minutes is asked for exactly, and only that edge', async () => {
    fixture = await plannerFixture(ALERTS, randomSpend('2026-06-01T00:00:00Z', '2026-06-08T12:00:00Z', 500, 6));
    const planned = fixture.planned();
    const aligned = new Date('2026-06-08T10:15:00Z');
    const queries = alertQueries(fixture.config.alerts, aligned, 'UTC');
    await planned.spendAll(queries);
    const before = fixture.metricsRequests();
    const between = new Date('2026-06-08T10:15:00.500Z');
    const later = alertQueries(fixture.config.alerts, between, 'UTC');
    expectSameResults(later, await planned.spendAll(later), await fixture.naive.spendAll(later), 'between minutes');
    const exact = fixture.fake.requests.slice(before).filter((r) => (r.query as { timeDimension?: unknown } | null)?.timeDimension === undefined);
    // top-N users, plus exact edges; never the whole windows again
    expect(exact.length).toBeGreaterThan(1);
    expect(planned.lastUsage!.requests).toBeLessThan(later.length);
  });
});
