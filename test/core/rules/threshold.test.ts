import { describe, expect, it } from 'vitest';
import { neededRanges } from '../../../src/core/evaluate.js';
import { threshold } from '../../../src/core/rules/threshold.js';
import type { Notification } from '../../../src/core/notification.js';
import { alert, NOW, one } from '../evaluation.js';

describe('threshold alerts', () => {
  it('fire only when spend is greater than the threshold', () => {
    const daily = alert({ threshold: 50 });
    expect(one(daily, 49.99).breach).toBeNull();
    expect(one(daily, 50).breach).toBeNull();
    expect(one(daily, 50.01).breach).toBe('critical');
  });

  it('describe the series and its calendar window', () => {
    expect(one(alert({ threshold: 50 }), 61.25)).toEqual({
      alert: 'spend',
      kind: 'threshold',
      groupValue: null,
      seriesKey: '',
      value: 61.25,
      breach: 'critical',
      levels: { critical: 50 },
      baseline: null,
      factor: null,
      window: { type: 'day', from: '2026-11-24T00:00:00.000Z', to: '2026-11-24T15:04:05.000Z', timezone: 'UTC' },
      periodStart: new Date('2026-11-24T00:00:00.000Z'),
      recovered: false,
    });
  });

  it('use the local calendar period of the configured zone', () => {
    const series = one(alert({ threshold: 50 }), 1, [], {
      now: new Date('2026-11-25T03:00:00Z'),
      timezone: 'America/New_York',
    });
    expect(series.window).toEqual({
      type: 'day',
      from: '2026-11-24T05:00:00.000Z',
      to: '2026-11-25T03:00:00.000Z',
      timezone: 'America/New_York',
    });
    expect(series.periodStart).toEqual(new Date('2026-11-24T05:00:00.000Z'));
  });

  it('are warning when a single threshold says so', () => {
    const series = one(alert({ threshold: 50, severity: 'warning' }), 51);
    expect(series.levels).toEqual({ warning: 50 });
    expect(series.breach).toBe('warning');
  });

  it('report the highest of two levels crossed', () => {
    const tiered = alert({ threshold: { warning: 40, critical: 50 } });
    expect(one(tiered, 40).breach).toBeNull();
    expect(one(tiered, 40.5).breach).toBe('warning');
    expect(one(tiered, 50).breach).toBe('warning');
    // crossing both at once is one critical breach
    expect(one(tiered, 75).breach).toBe('critical');
    expect(one(tiered, 75).levels).toEqual({ warning: 40, critical: 50 });
  });

  it('work with only one of the two levels', () => {
    expect(one(alert({ threshold: { warning: 40 } }), 100)).toMatchObject({ levels: { warning: 40 }, breach: 'warning' });
    expect(one(alert({ threshold: { critical: 50 } }), 45)).toMatchObject({ levels: { critical: 50 }, breach: null });
  });

  it('stay silent while spend is below minSpend', () => {
    const floored = alert({ threshold: 1, minSpend: 5 });
    expect(one(floored, 4.99)).toMatchObject({ breach: null, levels: { critical: 1 } });
    expect(one(floored, 5).breach).toBe('critical');
  });

  it('need no baseline ranges', () => {
    const ranges = neededRanges(alert({ threshold: 50 }), NOW, 'UTC');
    expect(ranges.baselines).toEqual([]);
    expect(ranges.current).toEqual({ from: new Date('2026-11-24T00:00:00.000Z'), to: NOW });
  });
});

describe('the threshold rule', () => {
  const fields = alert({ threshold: 1 });
  const usd = (amount: number): string => `$${amount}`;

  it('takes a number of USD, { warning, critical } or { budget, steps }, and nothing else', () => {
    expect(threshold.schema.safeParse(50).success).toBe(true);
    expect(threshold.schema.safeParse({ warning: 40 }).success).toBe(true);
    expect(threshold.schema.safeParse(threshold.example).data).toEqual({ warning: 40, critical: 50 });
    expect(threshold.schema.safeParse('lots').error?.issues[0]?.message).toBe('must be a number of USD, { warning, critical } or { budget, steps }');
    expect(threshold.schema.safeParse(-1).success).toBe(false);
    expect(threshold.schema.safeParse({ warning: 1, high: 2 }).success).toBe(false);
  });

  it('compares every series with the same levels and never reads history', () => {
    const comparison = threshold.compare({ warning: 40, critical: 50 }, fields);
    const history = (): never => {
      throw new Error('a threshold reads no history');
    };
    expect(comparison.factor).toBeNull();
    expect(comparison.levelsOf(history)).toEqual({ levels: { warning: 40, critical: 50 }, baseline: null, lowest: 40 });
    expect(comparison.levelsOf(history)).toBe(comparison.levelsOf(history));
    expect(threshold.earlierRangeCount(50)).toBe(0);
    expect(threshold.earlierRanges(50, { kind: 'calendar', unit: 'day' }, NOW, 'UTC')).toEqual([]);
  });

  it('gives a single level the configured severity, critical by default', () => {
    expect(threshold.compare(50, fields).levelsOf(() => []).levels).toEqual({ critical: 50 });
    expect(threshold.compare(50, alert({ threshold: 50, severity: 'warning' })).levelsOf(() => []).levels).toEqual({ warning: 50 });
  });

  it('describes itself level by level, warning first', () => {
    expect(threshold.describe(50, fields, usd)).toBe('critical when spend > $50');
    expect(threshold.describe(50, alert({ threshold: 50, severity: 'warning' }), usd)).toBe('warning when spend > $50');
    expect(threshold.describe({ critical: 50, warning: 40 }, fields, usd)).toBe('warning when spend > $40, critical when spend > $50');
    expect(threshold.describe({ critical: 50 }, fields, usd)).toBe('critical when spend > $50');
  });

  it('adds nothing to a notification beyond spend and threshold', () => {
    expect(threshold.notificationFacts({ baseline: null, factor: null } as Notification)).toEqual([]);
  });

  it('checks its levels and that severity stays with a single level', () => {
    const findings = (entry: Record<string, unknown>) => threshold.checks.flatMap((check) => check(entry));
    expect(findings({ threshold: 50, severity: 'warning' })).toEqual([]);
    expect(findings({ threshold: { warning: 40, critical: 50 } })).toEqual([]);
    expect(findings({ threshold: {} })).toEqual([{ level: 'error', path: ['threshold'], message: 'needs warning, critical or both' }]);
    expect(findings({ threshold: { warning: 50, critical: 50 } })).toEqual([
      { level: 'error', path: ['threshold', 'warning'], message: 'warning (50) must be less than critical (50)' },
    ]);
    expect(findings({ threshold: { critical: 50 }, severity: 'critical' })).toEqual([
      {
        level: 'error',
        path: ['severity'],
        message: 'severity does not go with threshold { warning, critical }: each level is its own severity',
      },
    ]);
  });
});
