// What a forecast alert costs in Langfuse requests, counted at the fake Langfuse: its hourly
// profile of the baseline windows is cut from the hourly buckets the planner fetches anyway, so it
// costs exactly what a relative alert with the same baseline and filter set costs.
import { afterEach, describe, expect, test } from 'vitest';
import { alertQueries } from '../../../../src/core/alert-queries.js';
import { dayOfTicks } from './reference.js';
import { expectSameResults, plannerFixture, randomSpend, type PlannerFixture } from './support.js';

let fixture: PlannerFixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

const yaml = (window: string, rule: string) =>
  `timezone: Europe/Berlin\nalerts:\n  - { name: a, window: ${window}, groupBy: model, filters: { environment: production }, ${rule}, channels: [terminal] }\n`;

/** Requests of a cold start at `first`, then of the evaluations at `warm`. */
async function costs(window: string, rule: string, from: string, first: Date, warm: readonly Date[], compare: boolean) {
  fixture = await plannerFixture(yaml(window, rule), randomSpend(from, '2026-06-11T00:00:00Z', 3000, 7));
  const planned = fixture.planned();
  const queries = alertQueries(fixture.config.alerts, first, 'Europe/Berlin');
  const results = await planned.spendAll(queries);
  const cold = fixture.metricsRequests();
  if (compare) expectSameResults(queries, results, await fixture.naive.spendAll(queries), `${rule} at ${first.toISOString()}`);
  const before = fixture.metricsRequests();
  for (const now of warm) await planned.spendAll(alertQueries(fixture.config.alerts, now, 'Europe/Berlin'));
  const warmCost = fixture.metricsRequests(before);
  await fixture.close();
  fixture = undefined;
  return { cold, warm: warmCost };
}

describe('a forecast alert', () => {
  test('costs no more requests than a relative alert with the same baseline and filter set (day, hourly profile)', async () => {
    const first = new Date('2026-06-10T12:15:00Z');
    const warm = dayOfTicks('2026-06-10T12:30:00Z').slice(0, 8);
    const relative = await costs('day', 'relative: { factor: 2, baseline: 7 }', '2026-05-25T00:00:00Z', first, warm, false);
    const forecast = await costs('day', 'forecast: { threshold: 100, baseline: 7 }', '2026-05-25T00:00:00Z', first, warm, true);
    expect(forecast).toEqual(relative);
    // a cold start reads the lookback in a few pages; then one request per evaluation (the open hours)
    expect(forecast).toEqual({ cold: 4, warm: 8 });
  }, 120_000);

  test('a month forecast too: 7 months of 744 hourly ranges, the requests of the relative alert', async () => {
    const first = new Date('2026-06-10T12:15:00Z');
    const warm = dayOfTicks('2026-06-10T12:30:00Z').slice(0, 2);
    const relative = await costs('month', 'relative: { factor: 2, baseline: 7 }', '2025-11-01T00:00:00Z', first, warm, false);
    const forecast = await costs('month', 'forecast: { threshold: 100, baseline: 7 }', '2025-11-01T00:00:00Z', first, warm, false);
    expect(forecast).toEqual(relative);
    expect(forecast.warm).toBe(2);
  }, 120_000);
});
