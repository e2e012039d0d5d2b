import { describe, expect, it } from 'vitest';
import { alertSchema, type AlertConfig } from '../../src/config/schema.js';
import type { SpendReading } from '../../src/core/query.js';
import { evaluateAlert, neededRanges, seriesKey } from '../../src/core/evaluate.js';

const NOW = new Date('2026-11-24T15:04:05.000Z');
const UTC = { now: NOW, timezone: 'UTC' };

const alert = (overrides: Record<string, unknown>): AlertConfig =>
  alertSchema.parse({ name: 'spend', window: 'day', channels: ['ops'], ...overrides });
const total = (usd: number): SpendReading => ({ total: usd, byGroup: null });
const grouped = (entries: [string | null, number][]): SpendReading => ({
  total: entries.reduce((sum, [, usd]) => sum + usd, 0),
  byGroup: new Map(entries),
});
const one = (a: AlertConfig, value: number, baselines: number[] = [], ctx = UTC) => {
  const [series, ...rest] = evaluateAlert(a, { current: total(value), baselines: baselines.map(total) }, ctx);
  expect(rest).toEqual([]);
  if (series === undefined) throw new Error('no series');
  return series;
};

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

describe('grouped alerts', () => {
  it('evaluate one series per group in the current reading, the null group included', () => {
    const byModel = alert({ window: '24h', groupBy: 'model', threshold: 20 });
    const series = evaluateAlert(
      byModel,
      {
        current: grouped([
          ['gpt-4o', 30],
          [null, 25],
          ['null', 1],
        ]),
        baselines: [],
      },
      UTC,
    );
    expect(series.map((s) => [s.seriesKey, s.groupBy, s.groupValue, s.value, s.breach])).toEqual([
      ['model=gpt-4o', 'model', 'gpt-4o', 30, 'critical'],
      ['model:null', 'model', null, 25, 'critical'],
      ['model=null', 'model', 'null', 1, null],
    ]);
  });

  it('compute each group’s baseline from that group, a missing group counting as $0', () => {
    const byModel = alert({ groupBy: 'model', relative: { factor: 2, baseline: 3 } });
    const series = evaluateAlert(
      byModel,
      {
        current: grouped([
          ['a', 25],
          ['b', 12],
          ['new', 100],
          [null, 3],
        ]),
        baselines: [
          grouped([['a', 10]]),
          grouped([
            ['a', 10],
            ['b', 5],
            ['gone', 50],
          ]),
          grouped([
            ['a', 10],
            [null, 1],
          ]),
        ],
      },
      UTC,
    );
    expect(series.map((s) => [s.seriesKey, s.baseline, s.levels, s.breach])).toEqual([
      ['model=a', 10, { warning: 20 }, 'warning'],
      // first spend in the second window: 5 and then $0 → 2.5
      ['model=b', 2.5, { warning: 5 }, 'warning'],
      ['model=new', null, {}, null],
      ['model:null', 1, { warning: 2 }, 'warning'],
    ]);
  });

  it('produce no series when no group has spend', () => {
    expect(evaluateAlert(alert({ groupBy: 'model', threshold: 1 }), { current: grouped([]), baselines: [] }, UTC)).toEqual(
      [],
    );
  });

  it('refuse a reading without groups', () => {
    expect(() =>
      evaluateAlert(alert({ groupBy: 'model', threshold: 1 }), { current: total(5), baselines: [] }, UTC),
    ).toThrow(/without groups/);
  });

  it('key series so that a value named "null" cannot collide with the null group', () => {
    expect(seriesKey(undefined, null)).toBe('');
    expect(seriesKey('model', 'gpt-4o')).toBe('model=gpt-4o');
    expect(seriesKey('model', null)).toBe('model:null');
    expect(seriesKey('model', 'null')).toBe('model=null');
  });
});

describe('rolling windows', () => {
  const rolling = alert({ window: '24h', threshold: 20 });

  it('span the window back from now and have no period start', () => {
    const series = one(rolling, 21);
    expect(series.window).toEqual({
      type: '24h',
      from: '2026-11-23T15:04:05.000Z',
      to: '2026-11-24T15:04:05.000Z',
      timezone: 'UTC',
    });
    expect(series.periodStart).toBeNull();
    expect(neededRanges(rolling, NOW, 'UTC').current).toEqual({ from: new Date('2026-11-23T15:04:05.000Z'), to: NOW });
  });

  it('recover only below resolveBelow × the threshold', () => {
    expect(one(rolling, 21)).toMatchObject({ breach: 'critical', recovered: false });
    expect(one(rolling, 20)).toMatchObject({ breach: null, recovered: false });
    expect(one(rolling, 18)).toMatchObject({ breach: null, recovered: false });
    expect(one(rolling, 17.99)).toMatchObject({ breach: null, recovered: true });
    const halfway = alert({ window: '24h', threshold: 20, resolveBelow: 0.5 });
    expect(one(halfway, 10).recovered).toBe(false);
    expect(one(halfway, 9.99).recovered).toBe(true);
  });

  it('recover below resolveBelow × the lowest level', () => {
    const tiered = alert({ window: '1h', threshold: { warning: 40, critical: 50 } });
    expect(one(tiered, 45)).toMatchObject({ breach: 'warning', recovered: false });
    expect(one(tiered, 36).recovered).toBe(false);
    expect(one(tiered, 35.99).recovered).toBe(true);
  });

  it('recover relative alerts against factor × baseline, and when there is no history', () => {
    const spike = alert({ window: '24h', relative: { factor: 2, baseline: 2 } });
    expect(one(spike, 19, [10, 10])).toMatchObject({ breach: null, recovered: false });
    expect(one(spike, 17.5, [10, 10])).toMatchObject({ breach: null, recovered: true });
    expect(one(spike, 100, [0, 0])).toMatchObject({ breach: null, levels: {}, recovered: true });
  });

  it('ask for consecutive earlier spans as baselines', () => {
    const spike = alert({ window: '24h', relative: { factor: 2, baseline: 2 } });
    expect(neededRanges(spike, NOW, 'UTC').baselines).toEqual([
      { from: new Date('2026-11-21T15:04:05.000Z'), to: new Date('2026-11-22T15:04:05.000Z') },
      { from: new Date('2026-11-22T15:04:05.000Z'), to: new Date('2026-11-23T15:04:05.000Z') },
    ]);
  });
});

describe('calendar windows', () => {
  it('never report recovered', () => {
    expect(one(alert({ threshold: 20 }), 0).recovered).toBe(false);
    expect(one(alert({ window: 'month', relative: { factor: 2, baseline: 1 } }), 0, [0]).recovered).toBe(false);
  });
});

describe('invalid alerts', () => {
  it('need exactly one rule', () => {
    expect(() => one(alert({ threshold: 1, relative: { factor: 2, baseline: 1 } }), 5, [1])).toThrow(/exactly one/);
    expect(() => one(alert({}), 5)).toThrow(/exactly one/);
  });
});
