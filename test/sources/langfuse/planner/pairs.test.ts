// Pairs of fields, a firing series' contributors (the trace names that spent most on one model),
// cost no request of their own while the hourly rows fit a page: the requests of their filter set
// ask for the fields they are made of, the pair's groups are cut from the same rows, and the
// history cache keeps them like any dimension's. Requests are counted at the fake Langfuse.
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { alertQueries } from '../../../../src/core/alert-queries.js';
import { parsePairKey, type SpendQuery } from '../../../../src/core/query.js';
import { CACHE_FILE } from '../../../../src/sources/langfuse/planner/index.js';
import type { FakeObservation } from '../../../../tools/fake-langfuse/server.js';
import { spend } from '../../../support/observations.js';
import { dayOfTicks, referenceSpend } from './reference.js';
import { expectSameResults, plannerFixture, random, type PlannerFixture } from './support.js';

let fixture: PlannerFixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

const ALERTS = `
schedule: "*/15 * * * *"
alerts:
  - { name: models, window: 24h, groupBy: model, threshold: 1, explain: [], channels: [terminal] }
  - { name: today, window: day, threshold: 1, explain: [], channels: [terminal] }
  - { name: prod-week, window: 7d, threshold: 1, filters: { environment: production }, explain: [], channels: [terminal] }
`;

/** With every groupBy query, its series' trace names: the same filters and range, per pair (value, trace name). */
function withContributors(queries: readonly SpendQuery[]): SpendQuery[] {
  return queries.flatMap((query): SpendQuery[] =>
    query.shape.kind === 'groups' ? [query, { ...query, shape: { kind: 'pairs', within: query.shape.by, by: 'traceName' } }] : [query],
  );
}

type Queries = (now: Date) => SpendQuery[];

/**
 * Evaluations at `ticks` from an empty cache, the cache keeping what `queriesAt` reads (as it
 * keeps the alerts'): the requests each sent, each as the planner estimated it beforehand (an
 * upper bound when the time isn't on a minute), every reading as one request per query's.
 */
async function evaluate(fixture: PlannerFixture, queriesAt: Queries, ticks: readonly Date[]): Promise<number[]> {
  await rm(join(fixture.stateDir, CACHE_FILE), { force: true });
  const planned = fixture.planned({ retention: queriesAt });
  const sent: number[] = [];
  for (const now of ticks) {
    const queries = queriesAt(now);
    const estimated = await planned.estimate(queries);
    const before = fixture.metricsRequests();
    const results = await planned.spendAll(queries);
    sent.push(fixture.metricsRequests(before));
    if (now.getTime() % 60_000 === 0) expect(estimated, `${now.toISOString()}: estimated`).toBe(sent[sent.length - 1]);
    else expect(estimated, `${now.toISOString()}: estimated`).toBeGreaterThanOrEqual(sent[sent.length - 1]!);
    expectSameResults(queries, results, await fixture.naive.spendAll(queries), now.toISOString());
  }
  return sent;
}

const alertsAt = (fixture: PlannerFixture): Queries => (now) => alertQueries(fixture.config.alerts, now, 'UTC');

/** Cold on the hour, the next quarter-hours, a check between minutes, and more ticks. */
const TICKS = [...dayOfTicks('2026-06-10T00:00:00Z').slice(0, 9), new Date('2026-06-10T02:07:31.250Z'), ...dayOfTicks('2026-06-10T02:15:00Z').slice(0, 4)];

describe('pairs of fields ride on their filter set’s requests', () => {
  test('a total, a groups query and a pairs query of one filter set and range: the requests of the first two alone, cold and warm', async () => {
    fixture = await plannerFixture(ALERTS, referenceSpend('2026-06-12T00:00:00Z', 20));
    const alone = await evaluate(fixture, alertsAt(fixture), TICKS);
    const since = fixture.fake.requests.length;
    const paired = await evaluate(fixture, (now) => withContributors(alertsAt(fixture!)(now)), TICKS);
    expect(paired).toEqual(alone);
    // the unfiltered set's requests ask for the model and the trace name at once; the production set's for neither
    const asked = fixture.fake.requests
      .slice(since)
      .map((request) => request.query as { filters: unknown[]; dimensions: Array<{ field: string }>; timeDimension?: unknown })
      .filter((query) => query?.timeDimension !== undefined);
    expect(new Set(asked.map((query) => JSON.stringify([query.filters.length, query.dimensions.map((d) => d.field)])))).toEqual(
      new Set([JSON.stringify([0, ['providedModelName', 'traceName']]), JSON.stringify([1, []])]),
    );
  }, 60_000);

  test('the cache keeps pair entries: a restarted planner reads them and asks only for the open hours; they go when no query reads them', async () => {
    fixture = await plannerFixture(ALERTS, referenceSpend('2026-06-12T00:00:00Z', 20));
    const queriesAt: Queries = (now) => withContributors(alertsAt(fixture!)(now));
    await evaluate(fixture, queriesAt, TICKS.slice(0, 3));
    const file = join(fixture.stateDir, CACHE_FILE);
    const { entries } = JSON.parse(await readFile(file, 'utf8')) as { entries: Record<string, Record<string, { s?: Array<Array<[string, number]>> }>> };
    const pairs = entries['v2|model>traceName|{}'];
    expect(pairs).toBeDefined();
    const keys = new Set(Object.values(pairs!).flatMap((hour) => hour.s!.flatMap((slice) => slice.map(([key]) => key))));
    expect([...keys].map(parsePairKey).every(([model, name]) => ['gpt-4o', 'gpt-4o-mini', 'claude-sonnet-4-5', null].includes(model) && ['chat', 'rag_query', 'summarize'].includes(name!))).toBe(true);
    expect(keys.has(JSON.stringify([null, 'chat']))).toBe(true);

    const restarted = fixture.planned({ retention: queriesAt });
    const now = new Date('2026-06-10T00:45:00Z');
    const queries = queriesAt(now);
    const before = fixture.metricsRequests();
    const results = await restarted.spendAll(queries);
    expect(fixture.metricsRequests(before), 'one request per filter set').toBe(2);
    expectSameResults(queries, results, await fixture.naive.spendAll(queries), 'restarted');

    await fixture.planned().spendAll(alertsAt(fixture)(new Date('2026-06-10T01:00:00Z')));
    const pruned = JSON.parse(await readFile(file, 'utf8')) as { entries: Record<string, unknown> };
    expect(Object.keys(pruned.entries).filter((key) => key.includes('>'))).toEqual([]);
    expect(pruned.entries['v2|model|{}']).toBeDefined();
  }, 60_000);
});

/** 30 trace names, each always on the same one of 3 models (30 pairs, not 90), each spending once in every hour (awkward names included). */
function denseSpend(from: string, hours: number): FakeObservation[] {
  const next = random(11);
  const models = ['gpt-4o', 'gpt-4o-mini', null] as const;
  const start = Date.parse(from);
  return Array.from({ length: hours * 30 }, (_, i) => {
    const hour = Math.floor(i / 30);
    const name = i % 30;
    const at = new Date(start + hour * 3_600_000 + Math.floor(next() * 3_600_000));
    return spend(at, Math.round(next() * 1e5) / 1e5, { model: models[name % 3], traceName: `trace "${name}" <${name % 3}>` });
  });
}

describe('when the rows outgrow a page', () => {
  test('history is asked in as many hours as a page holds of the pairs seen, not of their fields multiplied again; as estimated', async () => {
    fixture = await plannerFixture(ALERTS, denseSpend('2026-06-01T00:00:00Z', 11 * 24));
    // a day of 30 pairs (720 rows) fits a page: per filter set one history request and the open tail
    expect(await evaluate(fixture, (now) => withContributors(alertsAt(fixture!)(now)), [new Date('2026-06-11T12:00:00Z')])).toEqual([4]);

    // a week of the model and its pairs: the hours before the cached day come in pages
    const week = (now: Date): SpendQuery[] => {
      const models: SpendQuery = { filters: {}, shape: { kind: 'groups', by: 'model' }, from: new Date(now.getTime() - 7 * 24 * 3_600_000), to: now };
      return withContributors([...alertsAt(fixture!)(now), models]);
    };
    const planned = fixture.planned({ retention: week });
    const now = new Date('2026-06-11T13:00:00Z');
    const queries = week(now);
    const estimated = await planned.estimate(queries);
    const before = fixture.metricsRequests();
    const results = await planned.spendAll(queries);
    const sent = fixture.metricsRequests(before);
    expectSameResults(queries, results, await fixture.naive.spendAll(queries), now.toISOString());
    expect(estimated).toBe(sent);
    // 50 rows an hour: 30 pairs of generations (3 models, but each trace name on one), and v2's
    // root rows of the traces, without a model (20 more pairs). A page is sized to 999 rows (1,000
    // may have been cut short), 19 hours: the 143 hours from a week ago to the cached day in 8
    // requests, and the open tail of each filter set. Fields multiplied again (3 × 50) would take 24.
    const hoursPerPage = Math.floor(999 / 50);
    expect(sent).toBe(Math.ceil(143 / hoursPerPage) + 2);
  }, 60_000);
});
