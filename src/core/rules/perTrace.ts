// `perTrace:` — runaway traces: fire for any single trace whose cost inside the window is over
// `threshold` (agent loops, retry storms). One top-N request per evaluation: Langfuse's `top`
// most expensive traces in the window, with their names and users; each trace over the threshold
// is a series of its own (`group: {traceId}`), notified once, never resolved.
import * as z from 'zod/mini';
import { isCalendarWindow } from '../alert.js';
import { describe, usd } from '../schema-parts.js';
import { withLowest, type RuleCheck, type RuleKind } from './rule.js';

/** How many traces a perTrace alert ranks by default, and at most (Langfuse's row limit). */
export const PER_TRACE_TOP = 20;
export const MAX_PER_TRACE_TOP = 1000;

const schema = describe(
  z.strictObject({
    threshold: describe(usd(), 'Fire for any single trace whose cost inside the window is greater than this many USD.'),
    top: describe(
      z._default(z.int().check(z.minimum(1), z.maximum(MAX_PER_TRACE_TOP)), PER_TRACE_TOP),
      `How many of the window's most expensive traces to check (1–${MAX_PER_TRACE_TOP}, default ${PER_TRACE_TOP}).`,
    ),
  }),
  'Runaway traces: fire once for each trace that costs more than threshold within the window.',
);
export type PerTraceConfig = z.infer<typeof schema>;

const noGroupBy: RuleCheck = (alert) =>
  alert['groupBy'] !== undefined
    ? [{ level: 'error', path: ['groupBy'], message: 'a perTrace alert has one series per trace: groupBy does not go with it' }]
    : [];

// (on calendar windows the configuration's own check already says they only apply to rolling ones)
const neverResolves: RuleCheck = (alert) =>
  (['sendResolved', 'resolveBelow'] as const)
    .filter(() => typeof alert['window'] !== 'string' || !isCalendarWindow(alert['window']))
    .filter((key) => alert[key] !== undefined)
    .map((key) => ({ level: 'warning' as const, path: [key], message: `${key} has no effect on a perTrace alert: a runaway trace never resolves` }));

export const perTrace: RuleKind<'perTrace', PerTraceConfig> = {
  key: 'perTrace',
  schema,
  example: { threshold: 10, top: 20 },
  earlierRanges: () => [],
  earlierRangeCount: () => 0,
  shape: (config) => ({ kind: 'topN', by: 'traceId', n: config.top, labels: ['traceName', 'userId'] }),
  lifecycle: 'once',
  compare(config, alert) {
    const fixed = withLowest({ [alert.severity ?? 'critical']: config.threshold }, null);
    return { factor: null, levelsOf: () => fixed };
  },
  describe: (config, alert, formatUsd) =>
    `${alert.severity ?? 'critical'} when spend > ${formatUsd(config.threshold)} in one trace`,
  notificationFacts: () => [],
  checks: [noGroupBy, neverResolves],
  contributorBaseline: 'none',
};
