// `threshold:` — fire when spend in the window is greater than fixed USD levels: one level (its
// severity from `severity`, default critical) or { warning, critical }.
import * as z from 'zod/mini';
import { describe, usd } from '../schema-parts.js';
import type { Severity } from '../alert.js';
import { asRecord } from '../record.js';
import { withLowest, type Levels, type RuleCheck, type RuleKind } from './rule.js';

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
  ],
  { error: 'must be a number of USD or { warning, critical }' },
);
export type ThresholdConfig = z.infer<typeof schema>;

const levelsSet: RuleCheck = (alert) => {
  const levels = asRecord(alert['threshold']);
  if (!levels) return [];
  const { warning, critical } = levels;
  if (warning === undefined && critical === undefined) {
    return [{ level: 'error', path: ['threshold'], message: 'needs warning, critical or both' }];
  }
  if (typeof warning === 'number' && typeof critical === 'number' && warning >= critical) {
    return [{ level: 'error', path: ['threshold', 'warning'], message: `warning (${warning}) must be less than critical (${critical})` }];
  }
  return [];
};

const severityWithLevels: RuleCheck = (alert) =>
  alert['severity'] !== undefined && asRecord(alert['threshold'])
    ? [
        {
          level: 'error',
          path: ['severity'],
          message: 'severity does not go with threshold { warning, critical }: each level is its own severity',
        },
      ]
    : [];

function levelsOf(config: ThresholdConfig, severity: Severity | undefined): Levels {
  if (typeof config === 'number') return { [severity ?? 'critical']: config };
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
    const fixed = withLowest(levelsOf(config, alert.severity), null);
    return { factor: null, levelsOf: () => fixed };
  },
  describe(config, alert, formatUsd) {
    const levels = levelsOf(config, alert.severity);
    const when = (severity: Severity): string[] =>
      levels[severity] === undefined ? [] : [`${severity} when spend > ${formatUsd(levels[severity])}`];
    return [...when('warning'), ...when('critical')].join(', ');
  },
  notificationFacts: () => [],
  checks: [levelsSet, severityWithLevels],
};
