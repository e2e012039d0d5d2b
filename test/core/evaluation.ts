// What the evaluation tests of every rule kind share: an alert as the config schema builds it,
// readings, and the one series an ungrouped alert evaluates to.
import { expect } from 'vitest';
import { alertSchema, type AlertConfig } from '../../src/config/schema.js';
import type { SpendReading } from '../../src/core/query.js';
import { evaluateAlert } from '../../src/core/evaluate.js';

export const NOW = new Date('2026-11-24T15:04:05.000Z');
export const UTC = { now: NOW, timezone: 'UTC' };

export const alert = (overrides: Record<string, unknown>): AlertConfig =>
  alertSchema.parse({ name: 'spend', window: 'day', channels: ['ops'], ...overrides });
export const total = (usd: number): SpendReading => ({ total: usd, byGroup: null });
export const grouped = (entries: [string | null, number][]): SpendReading => ({
  total: entries.reduce((sum, [, usd]) => sum + usd, 0),
  byGroup: new Map(entries),
});
export const one = (a: AlertConfig, value: number, baselines: number[] = [], ctx = UTC) => {
  const [series, ...rest] = evaluateAlert(a, { current: total(value), baselines: baselines.map(total) }, ctx);
  expect(rest).toEqual([]);
  if (series === undefined) throw new Error('no series');
  return series;
};
