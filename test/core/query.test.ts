import { describe, expect, it } from 'vitest';
import { alertSchema, type AlertConfig } from '../../src/config/schema.js';
import { alertQueries } from '../../src/core/alert-queries.js';
import { alertRangeQueries, alertReading, alertReads, alertShape, groupField, TOTAL } from '../../src/core/query.js';

const alert = (overrides: Record<string, unknown>): AlertConfig =>
  alertSchema.parse({ name: 'spend', window: 'day', threshold: 10, channels: ['ops'], ...overrides });

describe('the shape of an alert’s queries', () => {
  it('is a total without groupBy', () => {
    expect(alertShape(alert({}))).toEqual({ kind: 'total' });
    expect(groupField(TOTAL)).toBeUndefined();
  });

  it('is one group per value for the fields Langfuse can list', () => {
    for (const by of ['model', 'traceName', 'environment', 'release'] as const) {
      expect(alertShape(alert({ groupBy: by }))).toEqual({ kind: 'groups', by });
    }
    expect(groupField({ kind: 'groups', by: 'model' })).toBe('model');
  });

  it('is a top-N of the alert’s `top` for userId (20 unless set)', () => {
    expect(alertShape(alert({ groupBy: 'userId', top: 5 }))).toEqual({ kind: 'topN', by: 'userId', n: 5 });
    expect(alertShape(alert({ groupBy: 'userId' }))).toEqual({ kind: 'topN', by: 'userId', n: 20 });
    expect(groupField({ kind: 'topN', by: 'userId', n: 5 })).toBe('userId');
  });
});

describe('alert queries', () => {
  const range = { from: new Date('2026-11-24T00:00:00Z'), to: new Date('2026-11-24T15:00:00Z') };

  it('carry the filters, the shape and the range', () => {
    const filters = { environment: 'production' };
    expect(alertRangeQueries(alert({ filters, groupBy: 'model' }), range)).toEqual([{ filters, shape: { kind: 'groups', by: 'model' }, ...range }]);
    expect(alertRangeQueries(alert({}), range)).toEqual([{ filters: {}, shape: TOTAL, ...range }]);
  });

  it('are one total per listed value for groupBy metadata.KEY, the value added to the filters', () => {
    const grouped = alert({
      groupBy: 'metadata.agent_type',
      values: ['auditor', 'writer'],
      filters: { environment: 'production', metadata: { team: 'a' } },
    });
    expect(alertShape(grouped)).toEqual(TOTAL);
    expect(alertRangeQueries(grouped, range)).toEqual([
      { filters: { environment: 'production', metadata: { team: 'a', agent_type: 'auditor' } }, shape: TOTAL, ...range },
      { filters: { environment: 'production', metadata: { team: 'a', agent_type: 'writer' } }, shape: TOTAL, ...range },
    ]);
    // the same filters objects at every range and evaluation: the planner keys each once
    expect(alertReads(grouped)[0]!.filters).toBe(alertRangeQueries(grouped, { ...range, from: new Date(0) })[0]!.filters);
    // the alert's own filters are left as they were
    expect(grouped.filters).toEqual({ environment: 'production', metadata: { team: 'a' } });
  });

  it('are put back together as one group per listed value, $0 for a value without spend', () => {
    const grouped = alert({ groupBy: 'metadata.agent_type', values: ['auditor', 'writer', 'idle'] });
    const reading = alertReading(grouped, [
      { total: 5, byGroup: null },
      { total: 2.5, byGroup: null },
      { total: 0, byGroup: null },
    ]);
    expect(reading).toEqual({ total: 7.5, byGroup: new Map([['auditor', 5], ['writer', 2.5], ['idle', 0]]) });
    const plain = { total: 3, byGroup: null };
    expect(alertReading(alert({}), [plain])).toBe(plain);
  });

  it('are each alert’s current range, then its baselines oldest first, alert after alert', () => {
    const now = new Date('2026-11-24T15:00:00Z');
    const queries = alertQueries(
      [alert({ name: 'a', explain: [] }), alert({ name: 'b', threshold: undefined, relative: { factor: 2, baseline: 2 }, explain: [] })],
      now,
      'UTC',
    );
    expect(queries.map((q) => [q.from.toISOString(), q.to.toISOString()])).toEqual([
      ['2026-11-24T00:00:00.000Z', '2026-11-24T15:00:00.000Z'],
      ['2026-11-24T00:00:00.000Z', '2026-11-24T15:00:00.000Z'],
      ['2026-11-22T00:00:00.000Z', '2026-11-22T15:00:00.000Z'],
      ['2026-11-23T00:00:00.000Z', '2026-11-23T15:00:00.000Z'],
    ]);
  });

  it('then the explain dimensions that ride along: per dimension, over the window and the previous one to the same point', () => {
    const now = new Date('2026-11-24T15:00:00Z');
    const day = (date: string) => [`${date}T00:00:00.000Z`, `${date}T15:00:00.000Z`];
    const plain = alertQueries([alert({ name: 'a' })], now, 'UTC');
    // userId isn't among them: a firing series asks for its top users apart
    expect(plain.map((q) => [q.shape, q.from.toISOString(), q.to.toISOString()])).toEqual([
      [TOTAL, ...day('2026-11-24')],
      [{ kind: 'groups', by: 'model' }, ...day('2026-11-24')],
      [{ kind: 'groups', by: 'traceName' }, ...day('2026-11-24')],
      [{ kind: 'groups', by: 'model' }, ...day('2026-11-23')],
      [{ kind: 'groups', by: 'traceName' }, ...day('2026-11-23')],
    ]);
    // a grouped alert's series are cut from pairs of its field and the dimension
    const grouped = alertQueries([alert({ name: 'g', groupBy: 'model', explain: ['traceName', 'environment'] })], now, 'UTC');
    expect(grouped.map((q) => q.shape).slice(1, 3)).toEqual([
      { kind: 'pairs', within: 'model', by: 'traceName' },
      { kind: 'pairs', within: 'model', by: 'environment' },
    ]);
  });
});
