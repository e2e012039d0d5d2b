// `threshold:` — fire when spend in the window is greater than fixed USD levels: one level (its
// severity from `severity`, default critical), { warning, critical }, or budget steps
// { budget, steps }: percents of the budget, each its own dedup level (`warning@80`).
import * as z from 'zod/mini';
import { describe, usd } from '../schema-parts.js';
import type { Severity } from '../alert.js';
import { asRecord } from '../record.js';
import { withLowest, type BudgetStep, type Levels, type RuleCheck, type RuleFinding, type RuleKind } from './rule.js';

/** At most this many steps per budget. */
export const MAX_STEPS = 10;

const schema = z.union(
  [
    describe(usd(), 'Fire when spend is greater than this many USD.'),
    describe(
      z.strictObject({
        warning: describe(z.optional(usd()), 'USD: fire a warning above this.'),
        critical: describe(z.optional(usd()), 'USD: fire a critical notification above this.'),
      }),
      'Levels in USD; the highest level crossed decides the severity.',
    ),
    describe(
      z.strictObject({
        // both required, and budget > 0: the checks below say so, located, rather than the union
        budget: describe(z.optional(z.number()), 'USD: the budget the steps are percents of (required, > 0).'),
        steps: describe(
          z.optional(z.array(z.number())),
          `Percents of budget (1–${MAX_STEPS} distinct, > 0): each fires once per period when spend > budget × step ÷ 100; under 100 warning, 100 and above critical.`,
        ),
      }),
      'Budget steps, e.g. { budget: 1000, steps: [50, 80, 100] }: each step is notified once per period.',
    ),
  ],
  { error: 'must be a number of USD, { warning, critical } or { budget, steps }' },
);
export type ThresholdConfig = z.infer<typeof schema>;
type StepsConfig = Extract<ThresholdConfig, { budget?: number }>;

function isStepsConfig(config: ThresholdConfig): config is StepsConfig {
  return typeof config === 'object' && ('budget' in config || 'steps' in config);
}

const isSteps = (levels: Readonly<Record<string, unknown>> | undefined): boolean =>
  levels !== undefined && (levels['budget'] !== undefined || levels['steps'] !== undefined);

const levelsSet: RuleCheck = (alert) => {
  const levels = asRecord(alert['threshold']);
  if (!levels || isSteps(levels)) return [];
  const { warning, critical } = levels;
  if (warning === undefined && critical === undefined) {
    return [{ level: 'error', path: ['threshold'], message: 'needs warning, critical or both' }];
  }
  if (typeof warning === 'number' && typeof critical === 'number' && warning >= critical) {
    return [{ level: 'error', path: ['threshold', 'warning'], message: `warning (${warning}) must be less than critical (${critical})` }];
  }
  return [];
};

const stepsSet: RuleCheck = (alert) => {
  const levels = asRecord(alert['threshold']);
  if (!levels || !isSteps(levels)) return [];
  const findings: RuleFinding[] = [];
  const error = (path: (string | number)[], message: string): void => {
    findings.push({ level: 'error', path: ['threshold', ...path], message });
  };
  const { budget, steps } = levels;
  if (budget === undefined) error([], 'budget steps need budget: the USD the steps are percents of');
  else if (typeof budget === 'number' && budget <= 0) error(['budget'], `budget must be greater than 0 (got ${budget})`);
  if (steps === undefined) error([], 'budget steps need steps: percents of budget, e.g. [50, 80, 100]');
  if (!Array.isArray(steps)) return findings;
  if (steps.length === 0 || steps.length > MAX_STEPS) {
    error(['steps'], `needs 1 to ${MAX_STEPS} steps (got ${steps.length})`);
  }
  const seen = new Map<number, number>();
  steps.forEach((step, index) => {
    if (typeof step !== 'number') return;
    if (!(step > 0)) error(['steps', index], `a step is a percent of budget greater than 0 (got ${step})`);
    const first = seen.get(step);
    if (first === undefined) seen.set(step, index);
    else error(['steps', index], `duplicate step ${step} (steps[${first}] has it too); steps must be distinct`);
  });
  return findings;
};

const severityWithSteps: RuleCheck = (alert) =>
  alert['severity'] !== undefined && isSteps(asRecord(alert['threshold']))
    ? [
        {
          level: 'error',
          path: ['severity'],
          message: 'severity does not go with threshold { budget, steps }: steps under 100 are warning, 100 and above critical',
        },
      ]
    : [];

const severityWithLevels: RuleCheck = (alert) =>
  alert['severity'] !== undefined && asRecord(alert['threshold']) && !isSteps(asRecord(alert['threshold']))
    ? [
        {
          level: 'error',
          path: ['severity'],
          message: 'severity does not go with threshold { warning, critical }: each level is its own severity',
        },
      ]
    : [];

/** The steps in USD, lowest first: under 100 % warning, from 100 % critical. */
export function budgetSteps(config: StepsConfig): BudgetStep[] {
  const budget = config.budget ?? 0;
  return [...(config.steps ?? [])]
    .sort((a, b) => a - b)
    .map((percent) => ({ percent, amount: (budget * percent) / 100, severity: percent < 100 ? 'warning' : 'critical' }));
}

function levelsOf(config: ThresholdConfig, severity: Severity | undefined): Levels {
  if (typeof config === 'number') return { [severity ?? 'critical']: config };
  if (isStepsConfig(config)) {
    // each severity from its lowest step: what the severity starts at (metrics, the demo)
    const levels: Levels = {};
    for (const step of budgetSteps(config)) levels[step.severity] ??= step.amount;
    return levels;
  }
  const levels: Levels = {};
  if (config.warning !== undefined) levels.warning = config.warning;
  if (config.critical !== undefined) levels.critical = config.critical;
  return levels;
}

export const threshold: RuleKind<'threshold', ThresholdConfig> = {
  key: 'threshold',
  schema: describe(schema, 'USD; or { warning, critical }.'),
  example: { warning: 40, critical: 50 },
  earlierRanges: () => [],
  earlierRangeCount: () => 0,
  compare(config, alert) {
    // the same levels for every series: made once, however many groups the alert has
    const levels = withLowest(levelsOf(config, alert.severity), null);
    const fixed = isStepsConfig(config) ? { ...levels, steps: budgetSteps(config) } : levels;
    return { factor: null, levelsOf: () => fixed };
  },
  describe(config, alert, formatUsd) {
    if (isStepsConfig(config)) {
      const steps = budgetSteps(config).map((step) => `${step.severity} at ${step.percent} % (${formatUsd(step.amount)})`);
      return `steps of the ${formatUsd(config.budget ?? 0)} budget, each once per period: ${steps.join(', ')}`;
    }
    const levels = levelsOf(config, alert.severity);
    const when = (severity: Severity): string[] =>
      levels[severity] === undefined ? [] : [`${severity} when spend > ${formatUsd(levels[severity])}`];
    return [...when('warning'), ...when('critical')].join(', ');
  },
  notificationFacts: () => [],
  checks: [levelsSet, stepsSet, severityWithLevels, severityWithSteps],
};
