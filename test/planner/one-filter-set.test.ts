// Eight alerts on one filter set (test/fixtures/config/one-filter-set.yaml) on the reference data
// set: what `validate` estimates against what the fake Langfuse receives.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, test } from 'vitest';
import { summarizeConfig } from '../../src/config/summary.js';
import { alertQueries } from '../../src/planner/index.js';
import { dayOfTicks, REFERENCE_TIMEZONE, referenceSpend } from './reference.js';
import { expectSameResults, plannerFixture, type PlannerFixture } from './support.js';

let fixture: PlannerFixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

test("validate's warm estimate is what a warm evaluation sends (1 request), and its cold one bounds the first evaluation", async () => {
  const yaml = await readFile(fileURLToPath(new URL('../fixtures/config/one-filter-set.yaml', import.meta.url)), 'utf8');
  fixture = await plannerFixture(yaml, referenceSpend('2026-06-12T00:00:00Z', 20));
  const ticks = dayOfTicks('2026-06-10T00:00:00Z').slice(0, 40);
  const summary = summarizeConfig(fixture.config, ticks[0]!);
  expect(summary.requests.perEvaluation).toBe(1);
  const planned = fixture.planned();
  const sent: number[] = [];
  for (const now of ticks) {
    const queries = alertQueries(fixture.config.alerts, now, REFERENCE_TIMEZONE);
    const before = fixture.metricsRequests();
    const results = await planned.spendAll(queries);
    sent.push(fixture.metricsRequests(before));
    if (sent.length % 10 === 1) expectSameResults(queries, results, await fixture.naive.spendAll(queries), now.toISOString());
  }
  expect(sent.slice(-30)).toEqual(Array(30).fill(summary.requests.perEvaluation));
  expect(summary.coldStart!.firstEvaluation).toBeGreaterThanOrEqual(sent[0]!);
}, 60_000);
