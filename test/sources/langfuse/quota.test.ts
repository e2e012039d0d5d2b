// The request budget: limits that hold over any hour or day, evaluations spread rather than
// bunched, Retry-After honoured and the pace slowed after a 429, and state that survives restarts.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { LangfuseError } from '../../../src/sources/langfuse/client.js';
import { alertQueries } from '../../../src/core/alert-queries.js';
import { quotaLimits, describeQuota, RequestQuota } from '../../../src/sources/langfuse/planner/index.js';
import { QUOTA_FILE } from '../../../src/sources/langfuse/quota.js';
import { fileStorage } from '../../../src/storage/file.js';
import { dayOfTicks, REFERENCE_ALERTS, REFERENCE_FILTER_SETS, REFERENCE_TIMEZONE, referenceSpend } from './planner/reference.js';
import { plannerFixture, type PlannerFixture } from './planner/support.js';
import { spend } from '../../support/observations.js';

const HOUR = 3_600_000;
let fixture: PlannerFixture | undefined;
let dir: string | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('plans and limits', () => {
  test('plan names stand for Langfuse Cloud limits', () => {
    expect(quotaLimits('hobby')).toEqual({ perDay: 100 });
    expect(quotaLimits('core')).toEqual({ perHour: 100 });
    expect(quotaLimits('pro')).toEqual({ perHour: 500 });
    expect(quotaLimits('self-hosted')).toEqual({});
    expect(quotaLimits(undefined)).toEqual({});
    expect(quotaLimits({ perHour: 20, perDay: 200 })).toEqual({ perHour: 20, perDay: 200 });
    expect(describeQuota('hobby')).toBe('hobby (100 a day)');
    expect(describeQuota({ perHour: 20, perDay: 1000 })).toBe('20 an hour, 1,000 a day');
    expect(describeQuota('self-hosted')).toBe('self-hosted (no limit)');
  });

  test('no limit: always admitted, and no limit in force asks for no estimate', () => {
    const budget = RequestQuota.inMemory({});
    expect(budget.admit(10_000, new Date('2026-06-10T00:00:00Z'))).toEqual({ ok: true });
    expect(budget.limited(new Date('2026-06-10T00:00:00Z'))).toBe(false);
    expect(RequestQuota.inMemory({ perDay: 100 }).limited(new Date('2026-06-10T00:00:00Z'))).toBe(true);
  });

  test('a burst may use a quarter of the window; after it, evaluations are spread evenly', async () => {
    const budget = RequestQuota.inMemory({ perHour: 100 });
    const t0 = Date.parse('2026-06-10T00:00:00Z');
    expect(budget.admit(20, new Date(t0))).toEqual({ ok: true });
    await budget.record(25, new Date(t0));
    const refused = budget.admit(1, new Date(t0));
    // each request stands for 1.25 × 36 s: 25 requests fill the 15 minutes' allowance and 5.6 minutes more
    expect(refused).toMatchObject({ ok: false, kind: 'pace', retryAt: new Date(t0 + 26 * 45_000 - 15 * 60_000) });
    if (!refused.ok) expect(refused.reason).toMatch(/spreading 100 requests an hour evenly/);
    expect(budget.admit(1, new Date(t0 + 26 * 45_000 - 15 * 60_000))).toEqual({ ok: true });
  });

  test('the hourly limit holds over any hour, also for requests counted before the limit was set', async () => {
    dir = await mkdtemp(join(tmpdir(), 'spend-alerts-budget-'));
    const t0 = Date.parse('2026-06-10T00:00:00Z');
    const unlimited = await RequestQuota.open({ storage: fileStorage(dir), limits: {} });
    for (let i = 0; i < 12; i++) await unlimited.record(1, new Date(t0 + i * 60_000));
    const limited = await RequestQuota.open({ storage: fileStorage(dir), limits: { perHour: 10 } });
    const refused = limited.admit(1, new Date(t0 + 30 * 60_000));
    expect(refused).toMatchObject({ ok: false, kind: 'limit' });
    if (refused.ok) return;
    expect(refused.reason).toMatch(/12 of 10 requests used in the last hour/);
    // three of them must leave the window: the third was logged in minute 2, so an hour after minute 3
    expect(refused.retryAt.getTime()).toBe(t0 + 3 * 60_000 + HOUR);
    expect(limited.admit(1, refused.retryAt)).toEqual({ ok: true });
  });

  test('an evaluation larger than the whole limit runs once nothing else is in its window', async () => {
    const budget = RequestQuota.inMemory({ perHour: 10 });
    const t0 = Date.parse('2026-06-10T00:00:00Z');
    expect(budget.admit(25, new Date(t0))).toEqual({ ok: true });
    await budget.record(25, new Date(t0));
    expect(budget.admit(25, new Date(t0 + HOUR)).ok).toBe(false);
  });

  test('state survives a restart; a budget in memory writes nothing', async () => {
    dir = await mkdtemp(join(tmpdir(), 'spend-alerts-budget-'));
    const t0 = new Date('2026-06-10T00:00:00Z');
    await RequestQuota.inMemory({ perHour: 10 }).record(9, t0);
    expect(existsSync(join(dir, QUOTA_FILE))).toBe(false);

    const budget = await RequestQuota.open({ storage: fileStorage(dir), limits: { perHour: 10 } });
    await budget.record(9, t0);
    await budget.rateLimited(120, t0);
    const reopened = await RequestQuota.open({ storage: fileStorage(dir), limits: { perHour: 10 } });
    expect(reopened.snapshot(new Date(t0.getTime() + 60_000))).toMatchObject({ usedLastHour: 9, pausedUntil: new Date(t0.getTime() + 120_000), pace: 0.5 });
  });
});

describe('shared by the processes of one state directory (a daemon and a check)', () => {
  test("each sees what the other spent and the other's 429 once it refreshes", async () => {
    dir = await mkdtemp(join(tmpdir(), 'spend-alerts-budget-'));
    const t0 = new Date('2026-06-10T00:00:00Z');
    const daemon = await RequestQuota.open({ storage: fileStorage(dir), limits: { perHour: 10 } });
    const check = await RequestQuota.open({ storage: fileStorage(dir), limits: { perHour: 10 } });
    const dryRun = await RequestQuota.open({ storage: fileStorage(dir), limits: { perHour: 10 } });
    await daemon.record(5, t0);
    await check.record(5, t0);
    const later = new Date(t0.getTime() + 60_000);
    expect(daemon.snapshot(later).usedLastHour).toBe(5);
    await daemon.refresh(later);
    await dryRun.refresh(later);
    expect([daemon.snapshot(later).usedLastHour, dryRun.snapshot(later).usedLastHour]).toEqual([10, 10]);
    expect(daemon.admit(1, later)).toMatchObject({ ok: false, kind: 'limit' });

    await check.rateLimited(600, later);
    await daemon.refresh(later);
    expect(daemon.admit(0, new Date(later.getTime() + 1_000))).toMatchObject({ ok: false, kind: 'rate-limited' });
  });

  test('requests counted by both at once are all counted', async () => {
    dir = await mkdtemp(join(tmpdir(), 'spend-alerts-budget-'));
    const stateDir = dir;
    const t0 = Date.parse('2026-06-10T00:00:00Z');
    const [a, b] = await Promise.all([0, 1].map(() => RequestQuota.open({ storage: fileStorage(stateDir), limits: { perDay: 1_000 } })));
    await Promise.all(Array.from({ length: 20 }, (_, i) => [a!.record(1, new Date(t0 + i * 60_000)), b!.record(2, new Date(t0 + i * 60_000))]).flat());
    const reopened = await RequestQuota.open({ storage: fileStorage(stateDir), limits: { perDay: 1_000 } });
    expect(reopened.snapshot(new Date(t0 + HOUR)).usedLastDay).toBe(60);
  });
});

/** A scheduler in miniature: at every tick, ask the budget; evaluate when admitted. */
async function runSchedule(fixture: PlannerFixture, budget: RequestQuota, ticks: readonly Date[]) {
  const planned = fixture.planned({ budget });
  const evaluations: Array<{ at: number; requests: number; estimated: number }> = [];
  for (const now of ticks) {
    const queries = alertQueries(fixture.config.alerts, now, REFERENCE_TIMEZONE);
    const estimated = await planned.estimate(queries);
    if (!budget.admit(estimated, now).ok) continue;
    const before = fixture.metricsRequests();
    await planned.spendAll(queries);
    evaluations.push({ at: now.getTime(), requests: fixture.metricsRequests(before), estimated });
  }
  return evaluations;
}

describe('at run time', () => {
  test('hobby (100 a day) on a 15-minute schedule: never more than 100 in any 24 hours, evaluations spread over the day', async () => {
    fixture = await plannerFixture(REFERENCE_ALERTS, referenceSpend('2026-06-13T00:00:00Z', 10));
    const budget = RequestQuota.inMemory(quotaLimits('hobby'));
    const ticks = [...dayOfTicks('2026-06-10T00:00:00Z'), ...dayOfTicks('2026-06-11T00:00:00Z'), ...dayOfTicks('2026-06-12T00:00:00Z')];
    const evaluations = await runSchedule(fixture, budget, ticks);

    for (const tick of ticks) {
      const t = tick.getTime();
      const lastDay = evaluations.filter((e) => e.at > t - 24 * HOUR && e.at <= t).reduce((n, e) => n + e.requests, 0);
      expect(lastDay, tick.toISOString()).toBeLessThanOrEqual(100);
    }
    // the schedule is stretched, not abandoned: evaluations through every day, none more than a few hours apart
    const gaps = evaluations.slice(1).map((e, i) => e.at - evaluations[i]!.at);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(6 * HOUR);
    const lastDay = evaluations.filter((e) => e.at >= Date.parse('2026-06-12T00:00:00Z'));
    expect(lastDay.length).toBeGreaterThanOrEqual(25);
    expect(lastDay.every((e) => e.requests === REFERENCE_FILTER_SETS && e.estimated === e.requests)).toBe(true);
  }, 120_000);

  test('a 429 pauses everything until Retry-After, then the pace is halved', async () => {
    fixture = await plannerFixture(REFERENCE_ALERTS, referenceSpend('2026-06-11T00:00:00Z', 10));
    const budget = RequestQuota.inMemory(quotaLimits('core'));
    const planned = fixture.planned({ budget });
    const ticks = dayOfTicks('2026-06-10T00:00:00Z');
    for (const now of ticks.slice(0, 8)) await planned.spendAll(alertQueries(fixture.config.alerts, now, REFERENCE_TIMEZONE));

    fixture.fake.inject({ kind: 'status', status: 429, retryAfter: 3600, times: 5 });
    const limitedAt = ticks[8]!;
    const before = fixture.metricsRequests();
    const results = await planned.spendAll(alertQueries(fixture.config.alerts, limitedAt, REFERENCE_TIMEZONE));
    // what was already in flight went out; nothing after the first 429
    expect(fixture.metricsRequests(before)).toBeLessThanOrEqual(REFERENCE_FILTER_SETS);
    expect(results.every((r) => r.status === 'rejected' && r.reason instanceof LangfuseError && r.reason.kind === 'rate-limited')).toBe(true);
    expect(planned.lastUsage?.rateLimited?.retryAfterSeconds).toBe(3600);
    fixture.fake.clearFaults();

    const during = budget.admit(3, ticks[9]!);
    expect(during).toMatchObject({ ok: false, kind: 'rate-limited', retryAt: new Date(limitedAt.getTime() + HOUR) });
    if (!during.ok) expect(during.reason).toMatch(/429/);
    const after = new Date(limitedAt.getTime() + HOUR);
    expect(budget.admit(3, after)).toEqual({ ok: true });
    expect(budget.snapshot(after)).toMatchObject({ pace: 0.5, effective: { perHour: 50 } });
    // an hour after the pause without another 429, the pace is back
    expect(budget.snapshot(new Date(after.getTime() + HOUR))).toMatchObject({ pace: 1, effective: { perHour: 100 } });
  }, 60_000);

  test('without a configured limit, a 429 still pauses and then halves what the last hour used', async () => {
    fixture = await plannerFixture(REFERENCE_ALERTS, referenceSpend('2026-06-11T00:00:00Z', 10));
    const budget = RequestQuota.inMemory(quotaLimits('self-hosted'));
    const planned = fixture.planned({ budget });
    const ticks = dayOfTicks('2026-06-10T00:00:00Z');
    for (const now of ticks.slice(0, 4)) await planned.spendAll(alertQueries(fixture.config.alerts, now, REFERENCE_TIMEZONE));
    const used = budget.snapshot(ticks[3]!).usedLastHour;

    fixture.fake.inject({ kind: 'status', status: 429, times: 5 });
    await planned.spendAll(alertQueries(fixture.config.alerts, ticks[4]!, REFERENCE_TIMEZONE));
    fixture.fake.clearFaults();
    const snapshot = budget.snapshot(ticks[4]!);
    // no Retry-After: a minute's pause
    expect(snapshot.pausedUntil).toEqual(new Date(ticks[4]!.getTime() + 60_000));
    expect(snapshot.effective.perHour).toBe(Math.floor(Math.max(1, budget.snapshot(ticks[4]!).usedLastHour) / 2));
    expect(snapshot.effective.perHour).toBeLessThan(used);
    expect(budget.admit(snapshot.effective.perHour! + 1, ticks[5]!).ok).toBe(false);
    // the implied limit is in force until the pace has recovered
    expect(budget.limited(ticks[5]!)).toBe(true);
    expect(budget.limited(new Date(snapshot.pausedUntil!.getTime() + HOUR))).toBe(false);
  }, 60_000);
});

describe('a pause that cannot be right', () => {
  const DAILY = `
alerts:
  - name: daily
    window: day
    threshold: 50
    channels: [terminal]
`;
  const NOW = new Date('2026-06-10T12:00:00Z');

  test.each(['99999999999999', '3600000'])('Retry-After: %s over a real socket pauses for 24 hours, and admission says until when', async (retryAfter) => {
    fixture = await plannerFixture(DAILY, [spend('2026-06-10T01:00:00Z', 1)]);
    const budget = await RequestQuota.open({ storage: fileStorage(fixture.stateDir), limits: quotaLimits('core') });
    fixture.fake.inject({ kind: 'status', status: 429, retryAfter, times: 10 });
    await fixture.planned({ budget }).spendAll(alertQueries(fixture.config.alerts, NOW, 'UTC'));
    const dayLater = new Date(NOW.getTime() + 24 * HOUR);
    expect(budget.snapshot(NOW).pausedUntil).toEqual(dayLater);
    // another process reading the file sees the same pause
    const other = await RequestQuota.open({ storage: fileStorage(fixture.stateDir), limits: quotaLimits('core') });
    await other.refresh(new Date(NOW.getTime() + HOUR));
    const refused = other.admit(1, new Date(NOW.getTime() + HOUR));
    expect(refused).toMatchObject({ ok: false, kind: 'rate-limited', retryAt: dayLater });
    if (!refused.ok) expect(refused.reason).toBe(`Langfuse asked to wait (HTTP 429) until ${dayLater.toISOString()}`);
    expect(other.admit(1, dayLater)).toEqual({ ok: true });
  });

  test.each([
    ['not a time', 'soon', null, 'is not a time: dropped'],
    ['beyond what a Date holds', 1e20, null, 'is not a time: dropped'],
    ['41 days ahead', Date.parse('2026-07-21T12:00:00Z'), Date.parse('2026-06-11T12:00:00Z'), 'more than 24 h ahead: shortened to 2026-06-11T12:00:00.000Z'],
  ])('a hand-damaged langfuse-budget.json (%s) is repaired on read, written back and reported once', async (_name, pausedUntil, repaired, problem) => {
    dir = await mkdtemp(join(tmpdir(), 'spend-alerts-budget-'));
    const file = join(dir, QUOTA_FILE);
    await writeFile(file, JSON.stringify({ version: 1, log: [], pacing: { [String(HOUR)]: 'x' }, pausedUntil, strike: null }));
    const reported: string[] = [];
    const budget = await RequestQuota.open({ storage: fileStorage(dir), limits: { perHour: 10 }, onRepair: (message) => reported.push(message) });
    await budget.refresh(NOW);
    const admission = budget.admit(1, NOW);
    if (repaired === null) expect(admission).toEqual({ ok: true });
    else expect(admission).toMatchObject({ ok: false, kind: 'rate-limited', retryAt: new Date(repaired) });
    expect(budget.snapshot(NOW).pausedUntil).toEqual(repaired === null ? null : new Date(repaired));
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ pausedUntil: repaired, pacing: {} });
    await budget.refresh(new Date(NOW.getTime() + 60_000));
    await budget.record(1, new Date(NOW.getTime() + 60_000));
    expect(reported).toHaveLength(1);
    expect(reported[0]).toContain(problem);
  });
});
