import { describe, expect, it } from 'vitest';
import { alertSchema, type AlertConfig } from '../../src/config/schema.js';
import { alertQueries } from '../../src/core/alert-queries.js';
import { alertQuery, alertShape, groupField, TOTAL } from '../../src/core/query.js';

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
    expect(alertQuery(alert({ filters, groupBy: 'model' }), range)).toEqual({ filters, shape: { kind: 'groups', by: 'model' }, ...range });
    expect(alertQuery(alert({}), range)).toEqual({ filters: {}, shape: TOTAL, ...range });
  });

  it('are each alert’s current range, then its baselines oldest first, alert after alert', () => {
    const now = new Date('2026-11-24T15:00:00Z');
    const queries = alertQueries([alert({ name: 'a' }), alert({ name: 'b', threshold: undefined, relative: { factor: 2, baseline: 2 } })], now, 'UTC');
    expect(queries.map((q) => [q.from.toISOString(), q.to.toISOString()])).toEqual([
      ['2026-11-24T00:00:00.000Z', '2026-11-24T15:00:00.000Z'],
      ['2026-11-24T00:00:00.000Z', '2026-11-24T15:00:00.000Z'],
      ['2026-11-22T00:00:00.000Z', '2026-11-22T15:00:00.000Z'],
      ['2026-11-23T00:00:00.000Z', '2026-11-23T15:00:00.000Z'],
    ]);
  });
});
