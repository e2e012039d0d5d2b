// The notification planner on its own: pure input → notifications and the next series state.
import { describe, expect, test } from 'vitest';
import { alertSchema, type AlertConfig } from '../../../src/config/schema.js';
import type { SeriesEvaluation } from '../../../src/core/series.js';
import { notificationId, planNotifications } from '../../../src/core/decide/notifications.js';
import type { SeriesState } from '../../../src/core/ledger.js';

const NOW = new Date('2026-11-24T15:00:00.000Z');
const alert = (fields: Partial<AlertConfig> & { window: string }): AlertConfig =>
  alertSchema.parse({ name: 'a', threshold: 10, channels: ['c'], ...fields });

function series(fields: Partial<SeriesEvaluation>): SeriesEvaluation {
  return {
    alert: 'a',
    kind: 'threshold',
    groupValue: null,
    seriesKey: '',
    value: 0,
    breach: null,
    levels: { critical: 10 },
    baseline: null,
    factor: null,
    window: { type: '24h', from: '2026-11-23T15:00:00.000Z', to: NOW.toISOString(), timezone: 'UTC' },
    periodStart: null,
    recovered: true,
    ...fields,
  };
}

const plan = (a: AlertConfig, evaluations: SeriesEvaluation[], state: Record<string, SeriesState> = {}, now = NOW) =>
  planNotifications({ evaluated: [{ alert: a, series: evaluations }], series: state, now, timezone: 'UTC', langfuseUrl: 'https://lf/project/p' });

describe('rolling windows', () => {
  const rolling = alert({ window: '24h' });

  test('a vanished grouped series resolves with $0', () => {
    const grouped = alert({ window: '24h', groupBy: 'model' });
    const first = plan(grouped, [series({ groupBy: 'model', groupValue: 'gpt-4o', seriesKey: 'model=gpt-4o', value: 12, breach: 'critical', recovered: false })]);
    expect(first.notifications).toHaveLength(1);
    const second = plan(grouped, [], first.series as Record<string, SeriesState>, new Date(NOW.getTime() + 3600_000));
    expect(second.notifications.map((n) => [n.notification.status, n.notification.value, n.notification.group])).toEqual([
      ['resolved', 0, { model: 'gpt-4o' }],
    ]);
    expect(second.notifications[0]!.notification.window.from).toBe('2026-11-23T16:00:00.000Z');
  });

  test('a userId series that left the top-N stays open: it may still be over budget', () => {
    const users = alert({ window: '24h', groupBy: 'userId' });
    const first = plan(users, [series({ groupBy: 'userId', groupValue: 'u1', seriesKey: 'userId=u1', value: 12, breach: 'critical', recovered: false })]);
    const second = plan(users, [], first.series as Record<string, SeriesState>);
    expect(second.notifications).toHaveLength(0);
    expect(second.series['a|userId=u1']?.open).toBe(true);
  });

  test('sendResolved: false closes the episode silently, and a new breach starts a new one', () => {
    const quiet = alert({ window: '24h', sendResolved: false });
    const first = plan(quiet, [series({ value: 12, breach: 'critical', recovered: false })]);
    const later = new Date(NOW.getTime() + 3600_000);
    const second = plan(quiet, [series({ value: 1 })], first.series as Record<string, SeriesState>, later);
    expect(second.notifications).toHaveLength(0);
    const third = plan(quiet, [series({ value: 13, breach: 'critical', recovered: false })], second.series as Record<string, SeriesState>, new Date(later.getTime() + 3600_000));
    expect(third.notifications).toHaveLength(1);
    expect(third.notifications[0]!.notification.id).not.toBe(first.notifications[0]!.notification.id);
  });

  test('ids are stable and name alert, series, period, severity and status', () => {
    const result = plan(rolling, [series({ value: 12, breach: 'critical', recovered: false })]);
    expect(result.notifications[0]!.notification.id).toBe('a|-|2026-11-24T15:00:00Z|critical|firing');
    expect(notificationId('m', 'model:null', '2026-11-24T09:15:00.000Z', 'warning', 'resolved')).toBe('m|model:null|2026-11-24T09:15:00Z|warning|resolved');
  });
});

describe('calendar windows', () => {
  const daily = alert({ window: 'day', threshold: { warning: 5, critical: 10 } });
  const period = new Date('2026-11-24T00:00:00.000Z');

  test('never resolve and stay quiet until the period ends', () => {
    const first = plan(daily, [series({ value: 12, breach: 'critical', periodStart: period, recovered: false })]);
    const second = plan(daily, [series({ value: 12, breach: null, periodStart: period, recovered: false })], first.series as Record<string, SeriesState>);
    expect(second.notifications).toHaveLength(0);
  });

  test('critical already sent covers a later warning in the same period', () => {
    const first = plan(daily, [series({ value: 12, breach: 'critical', periodStart: period })]);
    const second = plan(daily, [series({ value: 12, breach: 'warning', periodStart: period })], first.series as Record<string, SeriesState>);
    expect(second.notifications).toHaveLength(0);
  });

  test('a series with no evaluation in a new period is forgotten; one in the same period is kept', () => {
    const first = plan(daily, [series({ value: 12, breach: 'critical', periodStart: period, seriesKey: 'model=x', groupBy: 'model', groupValue: 'x' })]);
    const samePeriod = plan(daily, [series({ value: 1, periodStart: period })], first.series as Record<string, SeriesState>);
    expect(samePeriod.series['a|model=x']).toBeDefined();
    const nextDay = plan(daily, [series({ value: 1, periodStart: new Date('2026-11-25T00:00:00.000Z') })], first.series as Record<string, SeriesState>);
    expect(nextDay.series['a|model=x']).toBeUndefined();
  });
});
