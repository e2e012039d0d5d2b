// groupBy metadata.KEY in the pure core: the readings of one filtered query per value become one
// series per listed value, keyed and notified like any other group.
import { describe, expect, it } from 'vitest';
import { evaluateAlert } from '../../src/core/evaluate.js';
import { planNotifications } from '../../src/core/decide/notifications.js';
import { alertRangeQueries, alertReading } from '../../src/core/query.js';
import { alert, NOW, total, UTC } from './evaluation.js';

describe('metadata groups', () => {
  const byAgent = alert({ groupBy: 'metadata.agent_type', values: ['auditor', 'writer'], threshold: 10 });
  const reading = (auditor: number, writer: number) => alertReading(byAgent, [total(auditor), total(writer)]);

  it('evaluate one series per listed value, in the order listed, $0 included', () => {
    const series = evaluateAlert(byAgent, { current: reading(12, 0), baselines: [] }, UTC);
    expect(series.map((s) => [s.groupBy, s.groupValue, s.seriesKey, s.value, s.breach])).toEqual([
      ['metadata.agent_type', 'auditor', 'metadata.agent_type=auditor', 12, 'critical'],
      ['metadata.agent_type', 'writer', 'metadata.agent_type=writer', 0, null],
    ]);
  });

  it('compare each value with its own baselines (relative)', () => {
    const spike = alert({ groupBy: 'metadata.agent_type', values: ['auditor', 'writer'], relative: { factor: 2, baseline: 2 } });
    const two = (a: number, w: number) => alertReading(spike, [total(a), total(w)]);
    const series = evaluateAlert(spike, { current: two(25, 9), baselines: [two(10, 4), two(10, 6)] }, UTC);
    expect(series.map((s) => [s.groupValue, s.baseline, s.breach])).toEqual([
      ['auditor', 10, 'warning'],
      ['writer', 5, null],
    ]);
  });

  it('notify with the group {"metadata.KEY": value} and the id segment metadata.KEY=value', () => {
    const series = evaluateAlert(byAgent, { current: reading(12, 11), baselines: [] }, UTC);
    const plan = planNotifications({ evaluated: [{ alert: byAgent, series }], series: {}, now: NOW, timezone: 'UTC', langfuseUrl: 'https://lf/project/p' });
    expect(plan.notifications.map((p) => [p.notification.id, p.notification.group])).toEqual([
      ['spend|metadata.agent_type=auditor|2026-11-24T00:00:00Z|critical|firing', { 'metadata.agent_type': 'auditor' }],
      ['spend|metadata.agent_type=writer|2026-11-24T00:00:00Z|critical|firing', { 'metadata.agent_type': 'writer' }],
    ]);
  });

  it('read one query per value over every range', () => {
    const range = { from: new Date('2026-11-24T00:00:00Z'), to: NOW };
    expect(alertRangeQueries(byAgent, range).map((q) => q.filters.metadata)).toEqual([{ agent_type: 'auditor' }, { agent_type: 'writer' }]);
  });
});
