import { describe, expect, it } from 'vitest';
import { evaluateAlert } from '../../../src/core/evaluate.js';
import { alertShape } from '../../../src/core/query.js';
import { perTrace } from '../../../src/core/rules/perTrace.js';
import type { SpendReading } from '../../../src/core/query.js';
import { alert, UTC } from '../evaluation.js';

const topTraces = (entries: Array<[string, number, string | null, string | null]>): SpendReading => ({
  total: entries.reduce((sum, [, usd]) => sum + usd, 0),
  byGroup: new Map(entries.map(([id, usd]) => [id, usd])),
  labels: new Map(entries.map(([id, , traceName, userId]) => [id, { traceName, userId }])),
});

describe('perTrace alerts', () => {
  const runaway = alert({ perTrace: { threshold: 10 } });

  it('read the top traces with their names and users, 20 by default', () => {
    expect(alertShape(runaway)).toEqual({ kind: 'topN', by: 'traceId', n: 20, labels: ['traceName', 'userId'] });
    expect(alertShape(alert({ perTrace: { threshold: 10, top: 5 } }))).toMatchObject({ n: 5 });
  });

  it('make each trace a series; a trace over the threshold breaches, critical by default', () => {
    const series = evaluateAlert(runaway, { current: topTraces([['t1', 10.01, 'agent', 'u-1'], ['t2', 10, 'chat', null]]), baselines: [] }, UTC);
    expect(series.map((s) => [s.seriesKey, s.breach, s.labels])).toEqual([
      ['traceId=t1', 'critical', { traceName: 'agent', userId: 'u-1' }],
      ['traceId=t2', null, { traceName: 'chat', userId: null }],
    ]);
    expect(series[0]).toMatchObject({ kind: 'perTrace', groupBy: 'traceId', groupValue: 't1', levels: { critical: 10 } });
  });

  it('take their severity from severity, and never recover on a rolling window', () => {
    const rolling = alert({ window: '1h', severity: 'warning', perTrace: { threshold: 1 } });
    const [high, low] = evaluateAlert(rolling, { current: topTraces([['t1', 2, null, null], ['t2', 0.1, null, null]]), baselines: [] }, UTC);
    expect(high!.breach).toBe('warning');
    expect(low!.recovered).toBe(false);
  });

  it('refuse groupBy', () => {
    expect(perTrace.checks.flatMap((check) => check({ groupBy: 'model', perTrace: { threshold: 1 } }))).toEqual([
      { level: 'error', path: ['groupBy'], message: 'a perTrace alert has one series per trace: groupBy does not go with it' },
    ]);
  });
});
