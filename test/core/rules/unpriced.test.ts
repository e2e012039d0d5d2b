import { describe, expect, it } from 'vitest';
import { evaluateAlert } from '../../../src/core/evaluate.js';
import type { SpendReading, TokenUsage } from '../../../src/core/query.js';
import { unpriced } from '../../../src/core/rules/unpriced.js';
import { alert, UTC } from '../evaluation.js';

/** a reading of models with their cost and tokens, as the unpriced shape reads it */
function models(entries: Array<[string | null, number, TokenUsage]>): SpendReading {
  return {
    total: entries.reduce((sum, [, usd]) => sum + usd, 0),
    byGroup: new Map(entries.map(([model, usd]) => [model, usd])),
    tokens: new Map(entries.map(([model, , tokens]) => [model, tokens])),
  };
}
const used = (input: number, output: number): TokenUsage => ({ input, output, total: input + output });
const breaches = (config: Record<string, unknown>, reading: SpendReading) =>
  evaluateAlert(alert({ unpriced: config }), { current: reading, baselines: [] }, UTC)
    .filter((series) => series.breach !== null)
    .map((series) => [series.groupValue, series.breach]);

describe('unpriced alerts', () => {
  it('fire for a model with more than minTokens tokens and no cost, as a warning', () => {
    const reading = models([
      ['gpt-4o', 4.07, used(1_782_100, 63_120)],
      ['in-house', 0, used(900, 101)],
      ['small', 0, used(900, 100)],
    ]);
    expect(breaches({}, reading)).toEqual([['in-house', 'warning']]);
    expect(breaches({ minTokens: 1001 }, reading)).toEqual([]);
  });

  it('never for the null model, even with tokens, nor for an ignored one', () => {
    const reading = models([
      [null, 0, used(5000, 0)],
      ['free-local', 0, used(5000, 0)],
    ]);
    expect(breaches({ ignore: ['free-local'] }, reading)).toEqual([]);
    expect(breaches({}, reading)).toEqual([['free-local', 'warning']]);
  });

  it('take the alert’s severity, carry the tokens and compare no spend', () => {
    const [series] = evaluateAlert(alert({ unpriced: {}, severity: 'critical' }), { current: models([['in-house', 0, used(2000, 0)]]), baselines: [] }, UTC);
    expect(series).toMatchObject({ kind: 'unpriced', groupBy: 'model', breach: 'critical', levels: {}, tokens: used(2000, 0), recovered: false });
  });

  it('refuse groupBy, and warn about what has no effect', () => {
    const findings = unpriced.checks.flatMap((check) => check({ groupBy: 'model', minSpend: 1, unpriced: {} }));
    expect(findings.map((f) => [f.level, f.path])).toEqual([
      ['error', ['groupBy']],
      ['warning', ['minSpend']],
    ]);
  });
});
