import { describe, expect, it } from 'vitest';
import { forecast, PROFILE_HOURS } from '../../../src/core/rules/forecast.js';
import { neededRanges } from '../../../src/core/evaluate.js';
import { planNotifications } from '../../../src/core/decide/notifications.js';
import { notificationText } from '../../../src/render/text.js';
import { webhookBody } from '../../../src/render/webhook.js';
import { alert, one } from '../evaluation.js';

const BERLIN = 'Europe/Berlin';
const at = (iso: string, timezone: string) => ({ now: new Date(iso), timezone });

/** What the rule reads for one previous window: its spend to the same point, then its hours in order. */
function window(hours: readonly number[], toSamePoint: number): number[] {
  return [toSamePoint, ...hours];
}
/** A business day: $10 an hour from 08:00 to 18:00 ($100 a day; 60% of it by 14:00). */
const businessDay = Array.from({ length: 24 }, (_, h) => (h >= 8 && h < 18 ? 10 : 0));
const sevenBusinessDays = (toSamePoint: number) => Array.from({ length: 7 }, () => window(businessDay, toSamePoint)).flat();

describe('forecast alerts', () => {
  const budget = alert({ window: 'day', forecast: { threshold: 150 } });

  it('take the defaults baseline 7 and minElapsed 0.1', () => {
    expect(budget.forecast).toEqual({ threshold: 150, baseline: 7, minElapsed: 0.1 });
  });

  it('fire at 14:00 on a day whose pace projects over the budget: spend ÷ the share usually spent by now', () => {
    const series = one(budget, 120, sevenBusinessDays(60), at('2026-11-24T13:00:00Z', BERLIN));
    expect(series).toMatchObject({ kind: 'forecast', breach: 'warning', baseline: null, factor: null });
    expect(series.levels.warning).toBeCloseTo(90); // 150 × 0.6
    expect(series.projection).toMatchObject({ share: 0.6, threshold: 150 });
    expect(series.projection!.forecast).toBeCloseTo(200);
    // the path: $120 now, 200 × 0.7 = $140 at 15:00, 200 × 0.8 = $160 at 16:00 → $150 at 15:30 Berlin
    expect(series.projection!.crossesAt).toBe('2026-11-24T14:30:00.000Z');
  });

  it('stay silent on a normal day, and before minElapsed', () => {
    expect(one(budget, 60, sevenBusinessDays(60), at('2026-11-24T13:00:00Z', BERLIN)).breach).toBeNull();
    // 00:30 Berlin: 2% of the day has passed, whatever the spend
    const early = one(budget, 500, sevenBusinessDays(0), at('2026-11-23T23:30:00Z', BERLIN));
    expect(early).toMatchObject({ breach: null, levels: {} });
    const severe = alert({ window: 'day', severity: 'critical', forecast: { threshold: 150, minElapsed: 0 } });
    expect(one(severe, 500, sevenBusinessDays(0), at('2026-11-23T23:30:00Z', BERLIN)).breach).toBe('critical');
  });

  it('count only the previous windows with spend, as a ratio of sums', () => {
    const empty = window(Array<number>(24).fill(0), 0);
    const quiet = window(Array.from({ length: 24 }, (_, h) => (h < 12 ? 1 : 0)), 12); // all of it by noon
    const history = [...empty, ...quiet, ...window(businessDay, 60), ...empty, ...empty, ...empty, ...empty];
    // (12 + 60) ÷ (12 + 100) = 0.642857…
    const series = one(budget, 100, history, at('2026-11-24T13:00:00Z', BERLIN));
    expect(series.projection!.share).toBeCloseTo(72 / 112, 12);
    expect(series.projection!.forecast).toBeCloseTo(100 / (72 / 112), 9);
  });

  it('without a baseline, take elapsed time ÷ the window length and a straight path', () => {
    const none = Array<number>(7 * 25).fill(0);
    const series = one(budget, 100, none, at('2026-11-24T12:00:00Z', 'UTC'));
    expect(series.projection).toMatchObject({ share: 0.5, forecast: 200, crossesAt: '2026-11-24T18:00:00.000Z' });
  });

  it('cross at the wall-clock position on a DST day (23 hours in Berlin)', () => {
    const flat = Array.from({ length: 7 }, () => window(Array<number>(24).fill(1), 12)).flat();
    // 2026-03-29 12:00 CEST: half of a usual day by now; $100 → $200; 0.75 of a usual day at 18:00 CEST
    const series = one(budget, 100, flat, at('2026-03-29T10:00:00Z', BERLIN));
    expect(series.projection).toMatchObject({ share: 0.5, forecast: 200, crossesAt: '2026-03-29T16:00:00.000Z' });
    // without a baseline the path is linear in real time: 11 of 23 hours passed, $100 → $209.09, $150 after 16.5 hours
    const none = Array<number>(7 * 25).fill(0);
    const linear = one(budget, 100, none, at('2026-03-29T10:00:00Z', BERLIN));
    expect(linear.projection!.share).toBeCloseTo(11 / 23, 12);
    expect(linear.projection!.crossesAt).toBe('2026-03-29T15:30:00.000Z');
  });

  it('read each previous day to the same point and hour by hour at the same wall-clock positions', () => {
    const ranges = neededRanges(budget, new Date('2026-03-30T12:00:00Z'), BERLIN).baselines;
    expect(ranges).toHaveLength(7 * 25);
    expect(forecast.earlierRangeCount(budget.forecast!, 'day')).toBe(7 * 25);
    // the newest: Sunday 2026-03-29, the DST day — to 14:00 CEST, then its hours; 02:00–03:00 doesn't exist
    const newest = ranges.slice(6 * 25);
    expect(newest[0]).toEqual({ from: new Date('2026-03-28T23:00:00Z'), to: new Date('2026-03-29T12:00:00Z') });
    expect(newest[1]).toEqual({ from: new Date('2026-03-28T23:00:00Z'), to: new Date('2026-03-29T00:00:00Z') });
    expect(newest[3]).toEqual({ from: new Date('2026-03-29T01:00:00Z'), to: new Date('2026-03-29T01:00:00Z') });
    expect(newest[24]).toEqual({ from: new Date('2026-03-29T21:00:00Z'), to: new Date('2026-03-29T22:00:00Z') });
  });

  it('at a month end: a shorter month keeps its own end, a longer baseline month its own hours', () => {
    const monthly = alert({ window: 'month', forecast: { threshold: 150, baseline: 1 } });
    // February 2027 (672 h) after January (744 h at $1 an hour); Feb 14 00:00 UTC: 312 of January's 744 hours
    const january = window(Array<number>(744).fill(1), 312);
    const mid = one(monthly, 100, january, at('2027-02-14T00:00:00Z', 'UTC'));
    expect(mid.projection!.share).toBeCloseTo(312 / 744, 12);
    // 150 = (100 × 744 ÷ 312) × h ÷ 744 → h = 468: February 20 12:00
    expect(mid.projection!.crossesAt).toBe('2027-02-20T12:00:00.000Z');
    // $65 → $155: February ends at 155 × 671/744 by 23:00 on the 28th, the rest comes in its last hour
    expect(one(monthly, 65, january, at('2027-02-14T00:00:00Z', 'UTC')).projection!.crossesAt).toBe('2027-02-28T23:41:00.000Z');
    // the ranges of January: to Jan 14 00:00, then 744 hours; of a 30-day baseline month, 24 empty hours at the end
    const ranges = neededRanges(monthly, new Date('2027-02-14T00:00:00Z'), 'UTC').baselines;
    expect(ranges).toHaveLength(PROFILE_HOURS.month + 1);
    const fromMay = neededRanges(monthly, new Date('2027-05-31T12:00:00Z'), 'UTC').baselines; // April: 30 days
    expect(fromMay[0]).toEqual({ from: new Date('2027-04-01T00:00:00Z'), to: new Date('2027-05-01T00:00:00Z') });
    expect(fromMay[720]).toEqual({ from: new Date('2027-04-30T23:00:00Z'), to: new Date('2027-05-01T00:00:00Z') });
    expect(fromMay[744]).toEqual({ from: new Date('2027-05-01T00:00:00Z'), to: new Date('2027-05-01T00:00:00Z') });
  });

  it('say crossesAt null when spend is already over the budget', () => {
    expect(one(budget, 151, sevenBusinessDays(60), at('2026-11-24T13:00:00Z', BERLIN)).projection!.crossesAt).toBeNull();
  });

  it('notify once per period with the math: body fields, text lines in the zone', () => {
    const now = new Date('2026-11-24T13:00:00Z');
    const series = one(budget, 120, sevenBusinessDays(60), { now, timezone: BERLIN });
    const input = { evaluated: [{ alert: budget, series: [series] }], now, timezone: BERLIN, langfuseUrl: '' };
    const first = planNotifications({ ...input, series: {} });
    expect(first.notifications).toHaveLength(1);
    const n = first.notifications[0]!.notification;
    const body = webhookBody(n);
    expect(body).toMatchObject({ kind: 'forecast', value: 120, forecast: 200, share: 0.6, threshold: 150, crossesAt: '2026-11-24T14:30:00.000Z', baseline: null, factor: null });
    expect(notificationText(n).lines.map((l) => `${l.label}: ${l.value}`)).toEqual(
      expect.arrayContaining([
        'Spend: $120.00',
        'Threshold: $150.00',
        "Typical: 60% of the day's spend by now",
        'Forecast: $200.00 for the whole day',
        'Budget: at the usual pace the $150.00 budget is gone by 15:30 Europe/Berlin',
      ]),
    );
    const later = new Date('2026-11-24T15:00:00Z');
    const again = one(budget, 140, sevenBusinessDays(80), { now: later, timezone: BERLIN });
    expect(planNotifications({ ...input, evaluated: [{ alert: budget, series: [again] }], now: later, series: first.series }).notifications).toEqual([]);
  });

  it('refuse rolling windows, groupBy: userId and a baseline out of bounds', () => {
    const findings = (entry: Record<string, unknown>) => forecast.checks.flatMap((check) => check({ forecast: { threshold: 1 }, window: 'day', ...entry }));
    expect(findings({ window: '24h' })).toEqual([{ level: 'error', path: ['window'], message: expect.stringContaining('calendar window') }]);
    expect(findings({ groupBy: 'userId' })).toMatchObject([{ level: 'error', path: ['groupBy'] }]);
    expect(findings({ forecast: { threshold: 1, baseline: 0 } })).toMatchObject([{ level: 'error', path: ['forecast', 'baseline'] }]);
    expect(findings({ window: 'month', forecast: { threshold: 1, baseline: 23 } })).toMatchObject([
      { level: 'error', path: ['forecast', 'baseline'], message: expect.stringContaining('at most 22') },
    ]);
    expect(findings({ window: 'month', forecast: { threshold: 1, baseline: 22 } })).toEqual([]);
  });
});
