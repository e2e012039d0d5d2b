// `unpriced:` — models Langfuse has no price for: generations with token usage and no cost, so
// their spend is missing from every other alert. One top-N request per evaluation: Langfuse's
// models in the window with their cost and tokens; a model whose cost there is 0 (Langfuse answers
// `0`, v1 `null`) with more than `minTokens` tokens is a series of its own (`group: {model}`),
// notified once (per period on calendar windows), never resolved. A model priced for part of the
// window has a cost, and the root spans every trace carries (no model, no cost) are the null
// model, which is never unpriced. `ignore` lists the models free on purpose: whoever builds the
// alert may add more to it (models priced at 0 elsewhere in the configuration).
import * as z from 'zod/mini';
import { describe } from '../schema-parts.js';
import { MAX_PER_TRACE_TOP } from './perTrace.js';
import type { RuleCheck, RuleKind } from './rule.js';

export const UNPRICED_MIN_TOKENS = 1000;

const schema = describe(
  z.strictObject({
    minTokens: describe(
      z._default(z.int().check(z.minimum(0)), UNPRICED_MIN_TOKENS),
      `Fire for a model only when its tokens in the window (input + output) are more than this (default ${UNPRICED_MIN_TOKENS}).`,
    ),
    ignore: describe(z._default(z.array(z.string().check(z.minLength(1))), []), 'Models that are free on purpose: never reported.'),
  }),
  "Models without a price: fire once for each model whose generations used tokens but cost nothing in the window (add its price under models:).",
);
export type UnpricedConfig = z.infer<typeof schema>;

const noGroupBy: RuleCheck = (alert) =>
  alert['groupBy'] !== undefined
    ? [{ level: 'error', path: ['groupBy'], message: 'an unpriced alert has one series per model: groupBy does not go with it' }]
    : [];

const noEffect: RuleCheck = (alert) =>
  (['minSpend', 'sendResolved', 'resolveBelow'] as const)
    .filter((key) => alert[key] !== undefined)
    .map((key) => ({ level: 'warning' as const, path: [key], message: `${key} has no effect on an unpriced alert: it fires on tokens without cost, and never resolves` }));

const count = (value: number): string => value.toLocaleString('en-US', { maximumFractionDigits: 0 });

export const unpriced: RuleKind<'unpriced', UnpricedConfig> = {
  key: 'unpriced',
  schema,
  example: { minTokens: UNPRICED_MIN_TOKENS, ignore: [] },
  earlierRanges: () => [],
  earlierRangeCount: () => 0,
  // every model of the window, most expensive first: the unpriced ones (cost 0) come last
  shape: () => ({ kind: 'topN', by: 'model', n: MAX_PER_TRACE_TOP, tokens: true }),
  lifecycle: 'once',
  compare(config, alert) {
    const severity = alert.severity ?? 'warning';
    const ignored = new Set(config.ignore);
    return {
      factor: null,
      levelsOf(_history, value, series) {
        const tokens = series?.tokens?.total ?? 0;
        // the null model (every trace's root span) is never unpriced; a model with any cost has a price
        const isUnpriced =
          series !== undefined && series.groupValue !== null && !ignored.has(series.groupValue) && value === 0 && tokens > config.minTokens;
        return { levels: {}, baseline: null, lowest: Infinity, breach: isUnpriced ? severity : null };
      },
    };
  },
  describe: (config, alert) =>
    `${alert.severity ?? 'warning'} when a model has > ${count(config.minTokens)} tokens and no cost in the window` +
    `${config.ignore.length ? ` (ignoring ${config.ignore.length})` : ''}; one request of models and their tokens per evaluation`,
  notificationFacts: (n) =>
    n.tokens === undefined ? [] : [{ label: 'Tokens', value: n.tokens.total, unit: 'count', tail: `(input ${count(n.tokens.input)}, output ${count(n.tokens.output)}), no cost` }],
  checks: [noGroupBy, noEffect],
  contributorBaseline: 'none',
  notificationMessage: (evaluation) =>
    `Langfuse has no price for model ${evaluation.groupValue ?? '(none)'}: add its price under models: in alerts.yaml, or list it in ignore if it is free on purpose.`,
};
