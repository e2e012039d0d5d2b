// What the planner costs in Langfuse requests, counted at the fake Langfuse: the reference
// configuration over simulated days of quarter-hour evaluations, from an empty history cache and
// with a warm one, against one request per alert window.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { langfuseIdentity } from '../../../../src/sources/langfuse/client.js';
import { CACHE_FILE, createSpendSource } from '../../../../src/sources/langfuse/planner/index.js';
import { plannerSettings } from '../../../../src/config/planner-settings.js';
import { alertQueries } from '../../../../src/core/alert-queries.js';
import { spend } from '../../../support/observations.js';
import { dayOfTicks, REFERENCE_ALERTS, REFERENCE_FILTER_SETS, REFERENCE_NAIVE_PER_EVALUATION, REFERENCE_TIMEZONE, referenceSpend } from './reference.js';
import { expectSameResults, plannerFixture, randomSpend, type PlannerFixture } from './support.js';

let fixture: PlannerFixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

describe('the reference configuration (20 alerts, 3 filter sets)', () => {
  test('a cold day, then a warm one: one request per filter set per evaluation, identical numbers', async () => {
    fixture = await plannerFixture(REFERENCE_ALERTS, referenceSpend('2026-06-12T00:00:00Z', 20));
    const planned = fixture.planned();
    const perEvaluation = async (start: string, compareEvery: number): Promise<number[]> => {
      const counts: number[] = [];
      for (const [i, now] of dayOfTicks(start).entries()) {
        const queries = alertQueries(fixture!.config.alerts, now, REFERENCE_TIMEZONE);
        expect(queries).toHaveLength(REFERENCE_NAIVE_PER_EVALUATION);
        const before = fixture!.metricsRequests();
        const results = await planned.spendAll(queries);
        counts.push(fixture!.metricsRequests(before));
        expect(planned.lastUsage?.requests).toBe(counts[counts.length - 1]);
        if (i % compareEvery === 0) {
          const naiveBefore = fixture!.metricsRequests();
          expectSameResults(queries, results, await fixture!.naive.spendAll(queries), now.toISOString());
          // one request per window, but none for a window that is still empty (a day at midnight)
          expect(fixture!.metricsRequests(naiveBefore)).toBe(queries.filter((q) => q.to > q.from).length);
        }
      }
      return counts;
    };
    const naiveDay = 96 * REFERENCE_NAIVE_PER_EVALUATION;

    const cold = await perEvaluation('2026-06-10T00:00:00Z', 12);
    const coldDay = cold.reduce((a, b) => a + b, 0);
    expect(cold[0]).toBeLessThanOrEqual(12);
    expect(Math.max(...cold)).toBeLessThan(REFERENCE_NAIVE_PER_EVALUATION);
    expect(coldDay * 10).toBeLessThan(naiveDay);
    // warm well before the day is out
    expect(cold.slice(48)).toEqual(Array(48).fill(REFERENCE_FILTER_SETS));

    const warm = await perEvaluation('2026-06-11T00:00:00Z', 8);
    expect(warm).toEqual(Array(96).fill(REFERENCE_FILTER_SETS));
    expect(warm.reduce((a, b) => a + b, 0) * 16).toBeLessThan(naiveDay);
  }, 120_000);

  test('the cache outlives the process: a restarted worker goes on with one request per filter set', async () => {
    fixture = await plannerFixture(REFERENCE_ALERTS, referenceSpend('2026-06-12T00:00:00Z', 20));
    const first = fixture.planned();
    for (const now of dayOfTicks('2026-06-10T00:00:00Z').slice(0, 24)) await first.spendAll(alertQueries(fixture.config.alerts, now, REFERENCE_TIMEZONE));
    const cache = JSON.parse(await readFile(join(fixture.stateDir, CACHE_FILE), 'utf8')) as { version: number; source: string; entries: object };
    expect(cache.version).toBe(1);
    // the project by its host and a fingerprint of the public key: state files are shown and shared
    expect(cache.source).toBe(langfuseIdentity(fixture.fake.url, 'pk-lf-planner'));
    expect(cache.source).not.toContain('pk-lf-planner');

    const restarted = fixture.planned();
    const now = new Date('2026-06-10T06:15:00Z');
    const queries = alertQueries(fixture.config.alerts, now, REFERENCE_TIMEZONE);
    const before = fixture.metricsRequests();
    expectSameResults(queries, await restarted.spendAll(queries), await fixture.naive.spendAll(queries), 'restarted');
    expect(restarted.lastUsage?.requests).toBe(REFERENCE_FILTER_SETS);
    expect(fixture.metricsRequests(before)).toBe(REFERENCE_FILTER_SETS + REFERENCE_NAIVE_PER_EVALUATION);
  }, 60_000);
});

describe('the history cache', () => {
  test('a 28-day baseline costs no more per evaluation than a fixed alert', async () => {
    const yaml = (alert: string) => `alerts:\n  - { name: a, window: day, ${alert}, channels: [terminal] }\n`;
    const costs: number[] = [];
    for (const rule of ['threshold: 10', 'relative: { factor: 2, baseline: 28 }']) {
      fixture = await plannerFixture(yaml(rule), randomSpend('2026-05-01T00:00:00Z', '2026-06-11T00:00:00Z', 4000, 11));
      const planned = fixture.planned();
      for (const now of dayOfTicks('2026-06-09T12:00:00Z')) await planned.spendAll(alertQueries(fixture.config.alerts, now, 'UTC'));
      const before = fixture.metricsRequests();
      for (const now of dayOfTicks('2026-06-10T12:00:00Z').slice(0, 4)) {
        await planned.spendAll(alertQueries(fixture.config.alerts, now, 'UTC'));
      }
      costs.push(fixture.metricsRequests(before));
      await fixture.close();
      fixture = undefined;
    }
    expect(costs).toEqual([4, 4]);
  }, 60_000);

  test('spend arriving late, within lagMargin, is still counted', async () => {
    fixture = await plannerFixture('alerts:\n  - { name: a, window: 24h, threshold: 10, channels: [terminal] }\n', [spend('2026-06-10T09:00:00Z', 1)]);
    const planned = fixture.planned();
    const at = (iso: string) => alertQueries(fixture!.config.alerts, new Date(iso), 'UTC');
    await planned.spendAll(at('2026-06-10T10:00:00Z'));
    // ingested at 10:10, timed 09:55: ten minutes late, within the default 15 minutes
    fixture.fake.addObservations([spend('2026-06-10T09:55:00Z', 2)]);
    const queries = at('2026-06-10T10:15:00Z');
    const [reading] = await planned.spendAll(queries);
    expect(reading).toEqual({ status: 'fulfilled', value: { total: 3, byGroup: null } });
  });

  test('check --dry-run reads the cache and writes none', async () => {
    fixture = await plannerFixture(REFERENCE_ALERTS, referenceSpend('2026-06-12T00:00:00Z', 5));
    const readOnly = fixture.planned({ readOnly: true });
    const queries = alertQueries(fixture.config.alerts, new Date('2026-06-10T08:15:00Z'), REFERENCE_TIMEZONE);
    expectSameResults(queries, await readOnly.spendAll(queries), await fixture.naive.spendAll(queries), 'read-only');
    expect(existsSync(join(fixture.stateDir, CACHE_FILE))).toBe(false);
  });

  test('keeps only what configured alerts still need: removed filter sets and hours past the longest lookback go', async () => {
    fixture = await plannerFixture(REFERENCE_ALERTS, referenceSpend('2026-06-12T00:00:00Z', 5));
    await fixture.planned().spendAll(alertQueries(fixture.config.alerts, new Date('2026-06-10T08:15:00Z'), REFERENCE_TIMEZONE));
    const read = async () => JSON.parse(await readFile(join(fixture!.stateDir, CACHE_FILE), 'utf8')) as { entries: Record<string, Record<string, unknown>> };
    const keys = Object.keys((await read()).entries);
    expect(keys.some((key) => key.includes('rag_query'))).toBe(true);
    expect(keys.some((key) => key.startsWith('v2|model|'))).toBe(true);

    // Only the unfiltered day alert is left: the other filter sets, and everything before the day began, go.
    const dayOnly = { ...fixture.config, alerts: fixture.config.alerts.filter((alert) => alert.name === 'all-day') };
    const later = createSpendSource({
      client: fixture.client,
      stateDir: fixture.stateDir,
      project: langfuseIdentity(fixture.fake.url, 'pk-lf-planner'),
      settings: plannerSettings(dayOnly),
      log: fixture.log,
      readOnly: false,
    });
    await later.spendAll(alertQueries(dayOnly.alerts, new Date('2026-06-10T09:15:00Z'), REFERENCE_TIMEZONE));
    const entries = (await read()).entries;
    expect(Object.keys(entries)).toEqual(['v2||{}']);
    const dayStart = Date.parse('2026-06-09T22:00:00Z'); // midnight in Berlin
    expect(Math.min(...Object.keys(entries['v2||{}']!).map(Number))).toBe(dayStart);
  });
});
