// Eight alerts on one filter set (test/fixtures/config/one-filter-set.yaml) and the 20-alert
// reference configuration on the reference data set: what `validate` estimates against what the
// fake Langfuse receives, cold and warm (issue 12).
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, test } from 'vitest';
import { summarizeConfig } from '../../../../src/cli/validate-summary.js';
import { alertQueries } from '../../../../src/core/alert-queries.js';
import { dayOfTicks, REFERENCE_ALERTS, REFERENCE_FILTER_SETS, REFERENCE_TIMEZONE, referenceSpend } from './reference.js';
import { expectSameResults, plannerFixture, type PlannerFixture } from './support.js';

let fixture: PlannerFixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

const ONE_FILTER_SET = fileURLToPath(new URL('../../../fixtures/config/one-filter-set.yaml', import.meta.url));

/**
 * A cold day: the first evaluation (on the hour) sends the hour-bucket history and the minute-level
 * tail, a second check in the same minute only the open hour. The first quarter past cuts the
 * history where edges go, in one round; every evaluation after it is warm. validate's cold and warm
 * estimates, and the planner's own estimate before each evaluation, are what is sent.
 */
async function coldThenWarm(yaml: string, filterSets: number): Promise<void> {
  fixture = await plannerFixture(yaml, referenceSpend('2026-06-12T00:00:00Z', 20));
  const ticks = dayOfTicks('2026-06-10T00:00:00Z').slice(0, 40);
  const summary = summarizeConfig(fixture.config, ticks[0]!);
  expect(summary.requests.perEvaluation).toBe(filterSets);
  const planned = fixture.planned();
  const sent: number[] = [];
  for (const now of ticks) {
    const queries = alertQueries(fixture.config.alerts, now, REFERENCE_TIMEZONE);
    const estimated = await planned.estimate(queries);
    const before = fixture.metricsRequests();
    const results = await planned.spendAll(queries);
    sent.push(fixture.metricsRequests(before));
    expect(estimated, `${now.toISOString()}: estimated`).toBe(sent[sent.length - 1]);
    if (sent.length % 10 === 1) expectSameResults(queries, results, await fixture.naive.spendAll(queries), now.toISOString());
    if (sent.length === 1) {
      // a second check in the same minute (a new process on the same cache) re-reads nothing closed
      const again = fixture.planned();
      const beforeAgain = fixture.metricsRequests();
      await again.spendAll(queries);
      expect(fixture.metricsRequests(beforeAgain), 'a second check in the same minute').toBe(filterSets);
    }
  }
  expect(sent[0], 'cold: hour-bucket history and the minute-level tail').toBe(2 * filterSets);
  expect(summary.coldStart!.firstEvaluation).toBe(sent[0]);
  expect(sent.slice(2)).toEqual(Array(ticks.length - 2).fill(summary.requests.perEvaluation));
}

test('one filter set, eight alerts: 2 requests cold, 1 for a second check in the same minute and warm, as validate estimates', async () => {
  await coldThenWarm(await readFile(ONE_FILTER_SET, 'utf8'), 1);
}, 60_000);

test('the reference configuration: 2 requests per filter set cold, 1 warm, as validate estimates', async () => {
  await coldThenWarm(REFERENCE_ALERTS, REFERENCE_FILTER_SETS);
}, 60_000);

test('cold at a quarter past: edges inside closed hours are fetched in minutes once and cached; a second check in the same minute sends 1 request', async () => {
  fixture = await plannerFixture(await readFile(ONE_FILTER_SET, 'utf8'), referenceSpend('2026-06-12T00:00:00Z', 20));
  const now = new Date('2026-06-10T00:15:00Z');
  const queries = alertQueries(fixture.config.alerts, now, REFERENCE_TIMEZONE);
  const first = fixture.planned();
  const estimated = await first.estimate(queries);
  const results = await first.spendAll(queries);
  const cold = fixture.metricsRequests();
  expectSameResults(queries, results, await fixture.naive.spendAll(queries), now.toISOString());
  // validate assumes spend in every minute, so more minute-level pages than sparse spend needs
  expect(summarizeConfig(fixture.config, now).coldStart!.firstEvaluation).toBeGreaterThanOrEqual(cold);
  expect(estimated).toBeGreaterThanOrEqual(cold);
  const before = fixture.metricsRequests();
  await fixture.planned().spendAll(queries);
  expect(fixture.metricsRequests(before)).toBe(1);
  // and every later tick of the day is warm
  for (const later of dayOfTicks('2026-06-10T00:30:00Z').slice(0, 8)) {
    const since = fixture.metricsRequests();
    await first.spendAll(alertQueries(fixture.config.alerts, later, REFERENCE_TIMEZONE));
    expect(fixture.metricsRequests(since), later.toISOString()).toBe(1);
  }
}, 60_000);

test('a stretch cut earlier between uncut hours: one round of upgrades goes on past it to every hour edges will reach', async () => {
  fixture = await plannerFixture(await readFile(ONE_FILTER_SET, 'utf8'), referenceSpend('2026-06-12T00:00:00Z', 20));
  const planned = fixture.planned();
  // a run two days earlier cached 06:00–12:00 of June 8 in minutes; the hours around it come in hour buckets
  await planned.spendAll(alertQueries(fixture.config.alerts, new Date('2026-06-08T12:00:00Z'), REFERENCE_TIMEZONE));
  const sent: number[] = [];
  for (const now of dayOfTicks('2026-06-10T00:00:00Z').slice(0, 56)) {
    const queries = alertQueries(fixture.config.alerts, now, REFERENCE_TIMEZONE);
    const estimated = await planned.estimate(queries);
    const before = fixture.metricsRequests();
    const results = await planned.spendAll(queries);
    sent.push(fixture.metricsRequests(before));
    expect(estimated, now.toISOString()).toBe(sent[sent.length - 1]);
    if (sent.length % 8 === 0) expectSameResults(queries, results, await fixture.naive.spendAll(queries), now.toISOString());
  }
  // the 12:15 edge of June 10 falls in 12:00 of June 8, past the stretch: cut by the upgrades at 00:15
  expect(sent.slice(2)).toEqual(Array(54).fill(1));
}, 60_000);
