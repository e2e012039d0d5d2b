// What every registered rule kind must provide, and the alert schema assembled from them.
import { describe, expect, it } from 'vitest';
import { checkedAlertSchema, configSchema } from '../../../src/config/schema.js';
import { orList, RULE_KEYS, RULES, rangesPerEvaluation, ruleKind, ruleOf } from '../../../src/core/rules/index.js';
import type { RuleKind } from '../../../src/core/rules/rule.js';
import { parseWindow } from '../../../src/core/time/windows.js';
import { renderJsonSchema } from '../../../src/config/json-schema.js';
import { alert, NOW } from '../evaluation.js';

const common = { name: 'spend', window: 'day', channels: ['ops'] };
const issuesOf = (entry: Record<string, unknown>) =>
  checkedAlertSchema.safeParse(entry).error?.issues.map((issue) => [issue.path, issue.message]);

describe('every registered rule kind', () => {
  it('has its own key', () => {
    expect(new Set(RULE_KEYS).size).toBe(RULES.length);
    for (const rule of RULES) expect(ruleKind(rule.key)).toBe(rule);
  });

  // each kind's methods take its own configuration: seen through the common interface, any value
  for (const rule of RULES as readonly RuleKind[]) {
    describe(rule.key, () => {
      const config = rule.schema.parse(rule.example);
      const fields = alert({ [rule.key]: rule.example });

      it('has a schema that takes its example, as a whole alert too', () => {
        expect(config).toEqual(rule.example);
        expect(issuesOf({ ...common, [rule.key]: rule.example })).toBeUndefined();
        expect(ruleOf(fields)).toEqual({ kind: rule, config });
      });

      it('describes itself for validate', () => {
        expect(rule.describe(config, fields, (usd) => `$${usd}`)).toMatch(/^(warning|critical) when (spend|a model has) > /);
      });

      it('says how many ranges it reads, as many as it asks for', () => {
        for (const window of ['day', 'week', 'month', '1h', '7d']) {
          const earlier = rule.earlierRanges(config, parseWindow(window), NOW, 'Europe/Berlin');
          expect(earlier).toHaveLength(rule.earlierRangeCount(config, window));
          expect(rangesPerEvaluation(alert({ window, [rule.key]: rule.example }))).toBe(1 + earlier.length);
        }
      });

      it('compares a series with levels, or (a rule that compares no spend) decides its breach', () => {
        const levels = rule
          .compare(config, fields, { now: NOW, timezone: 'UTC' })
          .levelsOf(() => Array<number>(rule.earlierRangeCount(config, fields.window)).fill(10), 0, { groupValue: 'gpt-4o', tokens: { input: 0, output: 0, total: 0 } });
        if (levels.breach !== undefined) expect(levels.levels).toEqual({});
        else expect(Object.keys(levels.levels).length).toBeGreaterThan(0);
        expect(levels.lowest).toBe(Math.min(...Object.values(levels.levels)));
      });

      it('is a key of the alert in the JSON Schema editors read', () => {
        const alertProperties = JSON.parse(renderJsonSchema()).properties.alerts.items.properties;
        expect(Object.keys(alertProperties)).toContain(rule.key);
      });
    });
  }
});

describe('the assembled alert schema', () => {
  it('refuses an alert without a rule, and one with two, as the loader always said', () => {
    expect(issuesOf(common)).toEqual([[[], 'needs a rule: threshold, relative, forecast, perTrace or unpriced']]);
    expect(issuesOf({ ...common, threshold: 5, relative: { factor: 2, baseline: 3 } })).toEqual([
      [['relative'], 'an alert has exactly one rule: keep threshold or relative, not both'],
    ]);
  });

  it('says so alongside every other problem of the alert', () => {
    expect(issuesOf({ ...common, name: 'Spend', window: 'often' })).toEqual([
      [['name'], 'may only contain a-z, 0-9, "-", "_" and "."'],
      [['window'], 'must be day, week, month, or a rolling <n>h / <n>d such as 1h, 24h, 7d'],
      [[], 'needs a rule: threshold, relative, forecast, perTrace or unpriced'],
    ]);
  });

  it('checks the alerts of a configuration', () => {
    const config = { channels: { ops: { type: 'console' } }, alerts: [common] };
    expect(configSchema.safeParse(config).error?.issues.map((issue) => [issue.path, issue.message])).toEqual([
      [['alerts', 0], 'needs a rule: threshold, relative, forecast, perTrace or unpriced'],
    ]);
  });

  it('names the rule keys as a list a sentence can hold, however many there are', () => {
    expect(orList(['threshold', 'relative'])).toBe('threshold or relative');
    expect(orList(['threshold', 'relative', 'forecast'])).toBe('threshold, relative or forecast');
  });

  it('is what the evaluator relies on: it refuses what the schema refuses', () => {
    expect(() => ruleOf(alert({}))).toThrow('alert spend: needs exactly one of threshold, relative, forecast, perTrace or unpriced');
    expect(() => ruleOf(alert({ threshold: 1, relative: { factor: 2, baseline: 1 } }))).toThrow(/exactly one/);
  });
});
