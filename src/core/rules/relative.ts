// `relative:` — fire on a spike: spend in the window is greater than `factor` × the mean of the
// previous `baseline` windows of the same kind, each measured to the same point.
import * as z from 'zod/mini';
import { describe } from '../schema-parts.js';
import { formatDays, isCalendarWindow, MAX_LOOKBACK_DAYS, MAX_ROLLING_DAYS, windowDays } from '../alert.js';
import { asRecord } from '../record.js';
import { baselineWindows } from '../time/windows.js';
import { withLowest, type RuleCheck, type RuleKind } from './rule.js';

/** The most previous windows a relative alert may average. */
export const MAX_BASELINE = 52;

const schema = describe(
  z.strictObject({
    factor: describe(z.number().check(z.positive()), 'Fire when spend > factor × baseline.'),
    // 1 to 52 is a check (below) rather than a zod bound, so alertSchema.parse can still build the
    // edge cases the evaluator guards against; `minimum`/`maximum` here only inform editors.
    baseline: z.int().register(z.globalRegistry, {
      minimum: 1,
      maximum: MAX_BASELINE,
      description:
        'How many previous windows of the same kind to average, each measured to the same point; ' +
        `at most ${MAX_BASELINE}, and window × (baseline + 1) at most ${MAX_LOOKBACK_DAYS} days.`,
    }),
  }),
  'Fire on a spike against the recent past.',
);
export type RelativeConfig = z.infer<typeof schema>;

const baselineOf = (alert: Readonly<Record<string, unknown>>): unknown => asRecord(alert['relative'])?.['baseline'];

const baselineAtLeastOne: RuleCheck = (alert) => {
  const baseline = baselineOf(alert);
  return typeof baseline === 'number' && baseline < 1
    ? [
        {
          level: 'error',
          path: ['relative', 'baseline'],
          message: `must be at least 1: the number of previous windows to average (got ${baseline})`,
        },
      ]
    : [];
};

/** Bounds that keep what an alert reads within what a request budget can fetch and the cache can hold. */
const lookbackLimits: RuleCheck = (alert) => {
  const window = alert['window'];
  const days = windowDays(window);
  // a rolling window that is too long is the window's error (the config's cross-checks), not the baseline's
  if (days !== undefined && !isCalendarWindow(window as string) && days > MAX_ROLLING_DAYS) return [];
  const baseline = baselineOf(alert);
  if (typeof baseline !== 'number' || baseline < 1) return [];
  if (baseline > MAX_BASELINE) {
    return [
      {
        level: 'error',
        path: ['relative', 'baseline'],
        message: `must be at most ${MAX_BASELINE}: the number of previous windows to average (got ${baseline})`,
      },
    ];
  }
  const lookback = days === undefined ? 0 : days * (baseline + 1);
  if (lookback <= MAX_LOOKBACK_DAYS) return [];
  const most = Math.floor(MAX_LOOKBACK_DAYS / days!) - 1;
  return [
    {
      level: 'error',
      path: ['relative', 'baseline'],
      message:
        `${String(window)} × (${baseline} + 1) reaches back ${formatDays(lookback)}, more than ${MAX_LOOKBACK_DAYS} days; ` +
        `with this window the baseline is at most ${most}`,
    },
  ];
};

// A top-N query names the users of the current window only: their earlier windows aren't read.
const notPerUser: RuleCheck = (alert) =>
  alert['groupBy'] === 'userId'
    ? [{ level: 'error', path: ['groupBy'], message: 'groupBy: userId works with threshold alerts only, not relative ones' }]
    : [];

/**
 * The mean of the baseline windows, or null without history. We only know each window's total, not
 * when in it spend began, so "windows that end before the first spend don't count" becomes: the
 * windows before the first one with spend are dropped (the series didn't exist yet, or wasn't
 * traced); a window with spend, and every empty window after it, counts in full.
 */
function meanOf(history: readonly number[]): number | null {
  const first = history.findIndex((spend) => spend > 0);
  if (first === -1) return null;
  const counted = history.slice(first);
  return counted.reduce((sum, spend) => sum + spend, 0) / counted.length;
}

const PERIODS: Readonly<Record<string, string>> = { day: 'days', week: 'weeks', month: 'months' };


export const relative: RuleKind<'relative', RelativeConfig> = {
  key: 'relative',
  schema,
  example: { factor: 2, baseline: 4 },
  earlierRanges: (config, window, now, timezone) => baselineWindows(window, now, timezone, config.baseline),
  earlierRangeCount: (config) => config.baseline,
  compare(config, alert) {
    const severity = alert.severity ?? 'warning';
    return {
      factor: config.factor,
      levelsOf(history) {
        const baseline = meanOf(history());
        return withLowest(baseline === null ? {} : { [severity]: config.factor * baseline }, baseline);
      },
    };
  },
  describe(config, alert) {
    const previous = PERIODS[alert.window] ?? `${alert.window} spans`;
    return (
      `${alert.severity ?? 'warning'} when spend > ${config.factor} × ` +
      `the mean of the previous ${config.baseline} ${previous}, each to the same point`
    );
  },
  notificationFacts(n) {
    return [
      ...(n.baseline === null ? [] : [{ label: 'Baseline', value: n.baseline, unit: 'usd' as const }]),
      ...(n.factor === null ? [] : [{ label: 'Factor', value: n.factor, unit: 'factor' as const }]),
    ];
  },
  checks: [baselineAtLeastOne, lookbackLimits, notPerUser],
  contributorBaseline: 'earlier',
};
