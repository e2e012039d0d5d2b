import { describe, expect, it } from 'vitest';
import { evaluateAlert, neededRanges, seriesKey } from '../../src/core/evaluate.js';
import { alert, grouped, NOW, one, total, UTC } from './evaluation.js';

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
