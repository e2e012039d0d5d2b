import { describe, expect, it } from 'vitest';
import { neededRanges } from '../../../src/core/evaluate.js';
import { MAX_BASELINE, relative } from '../../../src/core/rules/relative.js';
import type { Notification } from '../../../src/core/notification.js';
import { parseWindow } from '../../../src/core/time/windows.js';
import { alert, NOW, one } from '../evaluation.js';

describe('relative alerts', () => {
  const spike = alert({ relative: { factor: 2, baseline: 7 } });
  const week = [10, 10, 10, 10, 10, 10, 10];

  it('fire at 2.5× the baseline with factor 2, and not at 1.5×', () => {
    expect(one(spike, 25, week)).toMatchObject({
      kind: 'relative',
      breach: 'warning',
      levels: { warning: 20 },
      baseline: 10,
      factor: 2,
    });
    expect(one(spike, 15, week).breach).toBeNull();
    expect(one(spike, 20, week).breach).toBeNull();
  });

  it('use the configured severity', () => {
    const critical = alert({ relative: { factor: 2, baseline: 7 }, severity: 'critical' });
    expect(one(critical, 25, week)).toMatchObject({ breach: 'critical', levels: { critical: 20 } });
  });

  it('are silent without history', () => {
    const silent = { breach: null, levels: {}, baseline: null, factor: 2 };
    expect(one(spike, 1000, [0, 0, 0, 0, 0, 0, 0])).toMatchObject(silent);
    expect(one(spike, 1000, [])).toMatchObject(silent);
    expect(one(alert({ relative: { factor: 2, baseline: 0 } }), 1000, [])).toMatchObject(silent);
  });

  it('drop the empty windows before the first spend but count later empty windows as $0', () => {
    // counted: 10, 0, 20, 0 → 7.5; the three leading empty windows don't count
    const series = one(spike, 15.01, [0, 0, 0, 10, 0, 20, 0]);
    expect(series.baseline).toBe(7.5);
    expect(series.levels).toEqual({ warning: 15 });
    expect(series.breach).toBe('warning');
    expect(one(spike, 15, [0, 0, 0, 10, 0, 20, 0]).breach).toBeNull();
  });

  it('respect minSpend', () => {
    const floored = alert({ relative: { factor: 2, baseline: 3 }, minSpend: 5 });
    expect(one(floored, 4, [1, 1, 1])).toMatchObject({ breach: null, levels: { warning: 2 } });
    expect(one(floored, 5, [1, 1, 1]).breach).toBe('warning');
  });

  it('ask for the baseline windows, oldest first, ending at the same time of day', () => {
    const ranges = neededRanges(spike, NOW, 'UTC');
    expect(ranges.baselines).toHaveLength(7);
    expect(ranges.baselines[0]).toEqual({
      from: new Date('2026-11-17T00:00:00.000Z'),
      to: new Date('2026-11-17T15:04:05.000Z'),
    });
    expect(ranges.baselines[6]).toEqual({
      from: new Date('2026-11-23T00:00:00.000Z'),
      to: new Date('2026-11-23T15:04:05.000Z'),
    });
  });
});

describe('the relative rule', () => {
  const fields = alert({ relative: { factor: 2, baseline: 3 } });

  it('takes a positive factor and a whole number of baseline windows', () => {
    expect(relative.schema.safeParse(relative.example).data).toEqual({ factor: 2, baseline: 4 });
    expect(relative.schema.safeParse({ factor: 0, baseline: 3 }).success).toBe(false);
    expect(relative.schema.safeParse({ factor: 2, baseline: 1.5 }).success).toBe(false);
    expect(relative.schema.safeParse({ factor: 2, baseline: 3, window: 'day' }).success).toBe(false);
  });

  it('reads as many earlier windows as its baseline, and only then its history', () => {
    expect(relative.earlierRangeCount({ factor: 2, baseline: 3 })).toBe(3);
    expect(relative.earlierRanges({ factor: 2, baseline: 3 }, parseWindow('24h'), NOW, 'UTC')).toEqual([
      { from: new Date('2026-11-20T15:04:05.000Z'), to: new Date('2026-11-21T15:04:05.000Z') },
      { from: new Date('2026-11-21T15:04:05.000Z'), to: new Date('2026-11-22T15:04:05.000Z') },
      { from: new Date('2026-11-22T15:04:05.000Z'), to: new Date('2026-11-23T15:04:05.000Z') },
    ]);
    const comparison = relative.compare({ factor: 2, baseline: 3 }, fields);
    expect(comparison.factor).toBe(2);
    expect(comparison.levelsOf(() => [3, 3, 6])).toEqual({ levels: { warning: 8 }, baseline: 4, lowest: 8 });
    expect(comparison.levelsOf(() => [0, 0, 0])).toEqual({ levels: {}, baseline: null, lowest: Infinity });
  });

  it('describes itself with the windows it averages', () => {
    const usd = (): string => 'unused';
    expect(relative.describe({ factor: 2, baseline: 3 }, fields, usd)).toBe(
      'warning when spend > 2 × the mean of the previous 3 days, each to the same point',
    );
    expect(relative.describe({ factor: 1.5, baseline: 4 }, alert({ window: '24h', severity: 'critical', relative: { factor: 1.5, baseline: 4 } }), usd)).toBe(
      'critical when spend > 1.5 × the mean of the previous 4 24h spans, each to the same point',
    );
  });

  it('adds the baseline and the factor to a notification, when it has them', () => {
    expect(relative.notificationFacts({ baseline: 12.5, factor: 2 } as Notification)).toEqual([
      { label: 'Baseline', value: 12.5, unit: 'usd' },
      { label: 'Factor', value: 2, unit: 'factor' },
    ]);
    expect(relative.notificationFacts({ baseline: null, factor: 2 } as Notification)).toEqual([
      { label: 'Factor', value: 2, unit: 'factor' },
    ]);
  });

  it('checks the baseline against the lookback the cache keeps, and refuses top-N users', () => {
    const findings = (entry: Record<string, unknown>) => relative.checks.flatMap((check) => check(entry));
    expect(findings({ window: 'day', relative: { factor: 2, baseline: MAX_BASELINE } })).toEqual([]);
    expect(findings({ window: 'day', relative: { factor: 2, baseline: 0 } })).toEqual([
      {
        level: 'error',
        path: ['relative', 'baseline'],
        message: 'must be at least 1: the number of previous windows to average (got 0)',
      },
    ]);
    expect(findings({ window: 'day', relative: { factor: 2, baseline: MAX_BASELINE + 1 } })[0]?.message).toBe(
      'must be at most 52: the number of previous windows to average (got 53)',
    );
    expect(findings({ window: '30d', relative: { factor: 2, baseline: 30 } })[0]?.message).toBe(
      '30d × (30 + 1) reaches back 930 days, more than 730 days; with this window the baseline is at most 23',
    );
    // a window that is too long is reported on the window, once
    expect(findings({ window: '100d', relative: { factor: 2, baseline: 30 } })).toEqual([]);
    expect(findings({ window: 'day', groupBy: 'userId', relative: { factor: 2, baseline: 1 } })).toEqual([
      { level: 'error', path: ['groupBy'], message: 'groupBy: userId works with threshold alerts only, not relative ones' },
    ]);
  });
});
