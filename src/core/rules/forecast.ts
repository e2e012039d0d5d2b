// `forecast:` — fire while there is still time to act: the calendar window's spend so far,
// projected to its end at the pace of the previous `baseline` windows, is over `threshold`.
//
// What it reads: for each previous window (oldest first), its spend to the same point as now (as
// `relative` measures it) and its spend in each hour of the window at the same wall-clock
// positions (00:00–01:00, … of the day, week or month; a shorter month's missing days are empty
// hours at its end). The planner cuts all of these from the hourly buckets it already fetches for
// the filter set, so a forecast costs the requests of a `relative` alert with the same baseline.
import * as z from 'zod/mini';
import { describe, usd } from '../schema-parts.js';
import { isCalendarWindow, MAX_LOOKBACK_DAYS, windowDays, type CalendarWindowName } from '../alert.js';
import type { TimeRange } from '../query.js';
import { asRecord } from '../record.js';
import { baselineWindows, periodStart, type CalendarUnit, type WindowSpec } from '../time/windows.js';
import { wallClock, zonedInstant } from '../time/zone.js';
import { withLowest, type Projection, type RuleCheck, type RuleKind, type SeriesLevels } from './rule.js';

export const MAX_FORECAST_BASELINE = 52;
export const FORECAST_DEFAULTS = { baseline: 7, minElapsed: 0.1 } as const;

/** The wall-clock hours of a window of each kind: a day, a week, the longest month. */
export const PROFILE_HOURS: Readonly<Record<CalendarUnit, number>> = { day: 24, week: 168, month: 744 };

const schema = describe(
  z.strictObject({
    threshold: describe(usd(), 'USD: fire when the spend projected for the whole window is greater than this.'),
    baseline: z._default(
      z.int().register(z.globalRegistry, {
        minimum: 1,
        maximum: MAX_FORECAST_BASELINE,
        description:
          'How many previous windows of the same kind give the usual pace (default 7); ' +
          `at most ${MAX_FORECAST_BASELINE}, and window × (baseline + 1) at most ${MAX_LOOKBACK_DAYS} days.`,
      }),
      FORECAST_DEFAULTS.baseline,
    ),
    minElapsed: z._default(
      z.number().check(z.gte(0), z.lt(1)).register(z.globalRegistry, {
        minimum: 0,
        exclusiveMaximum: 1,
        description: 'Stay silent until this fraction of the window has passed (0 ≤ x < 1, default 0.1).',
      }),
      FORECAST_DEFAULTS.minElapsed,
    ),
  }),
  'Fire when spend is on course to exceed a budget by the end of the calendar window.',
);
export type ForecastConfig = z.infer<typeof schema>;

const HOUR = 3_600_000;
const MINUTE = 60_000;

/** The local date a window starts and the instant it ends, for the window `k` periods before `now`'s (0: now's). */
function windowBack(unit: CalendarUnit, now: Date, timeZone: string, k: number): { start: { year: number; month: number; day: number }; end: Date } {
  const first = wallClock(periodStart({ kind: 'calendar', unit }, now, timeZone), timeZone);
  let start = { year: first.year, month: first.month, day: first.day };
  let next: { year: number; month: number; day: number };
  if (unit === 'month') {
    const index = first.year * 12 + (first.month - 1) - k;
    start = { year: Math.floor(index / 12), month: (index % 12) + 1, day: 1 };
    next = { year: start.year, month: start.month + 1, day: 1 };
  } else {
    const days = unit === 'day' ? 1 : 7;
    start = { ...start, day: start.day - days * k };
    next = { ...start, day: start.day + days };
  }
  return { start, end: zonedInstant(next, timeZone) };
}

/**
 * The hour positions of a window: PROFILE_HOURS + 1 instants, the first its start, the last its
 * end; a position past a shorter month's end is that end. Local midnights are looked up in the zone;
 * the hours of a day without an offset change follow from its midnight (a month's 744 positions
 * would otherwise be 744 zone lookups).
 */
function positions(unit: CalendarUnit, now: Date, timeZone: string, k: number): Date[] {
  const { start, end } = windowBack(unit, now, timeZone, k);
  const count = PROFILE_HOURS[unit];
  const at: Date[] = [];
  let midnight = zonedInstant(start, timeZone);
  for (let day = 0; day < count / 24; day++) {
    const next = zonedInstant({ ...start, day: start.day + day + 1 }, timeZone);
    const plain = next.getTime() - midnight.getTime() === 24 * HOUR;
    for (let h = 0; h < 24; h++) {
      const instant = plain ? new Date(midnight.getTime() + h * HOUR) : zonedInstant({ ...start, day: start.day + day, hour: h }, timeZone);
      at.push(unit === 'month' && instant > end ? end : instant);
    }
    midnight = next;
  }
  at.push(end);
  return at;
}

function forecastRanges(config: ForecastConfig, window: WindowSpec, now: Date, timeZone: string): TimeRange[] {
  // a rolling window is a configuration error (calendarOnly): there is nothing to read for it
  if (window.kind !== 'calendar') return [];
  const toSamePoint = baselineWindows(window, now, timeZone, config.baseline);
  const ranges: TimeRange[] = [];
  toSamePoint.forEach((range, i) => {
    const at = positions(window.unit, now, timeZone, config.baseline - i);
    ranges.push(range);
    for (let h = 0; h < at.length - 1; h++) ranges.push({ from: at[h]!, to: at[h + 1]! });
  });
  return ranges;
}

/** Σ to the same point and the cumulative hourly spend of the counted windows (whole spend > 0), summed. */
interface Profile {
  /** Σ spend to the same point ÷ Σ whole-window spend */
  readonly share: number;
  /** cumulative share at each hour position, PROFILE_HOURS + 1 values from 0 to 1 */
  readonly cumulative: readonly number[];
}

function profileOf(history: readonly number[], hours: number): Profile | null {
  const stride = hours + 1;
  let toPoint = 0;
  let whole = 0;
  const sums = new Array<number>(hours + 1).fill(0);
  for (let offset = 0; offset + stride <= history.length; offset += stride) {
    let windowTotal = 0;
    for (let h = 0; h < hours; h++) windowTotal += history[offset + 1 + h]!;
    if (!(windowTotal > 0)) continue;
    toPoint += history[offset]!;
    whole += windowTotal;
    let running = 0;
    for (let h = 0; h < hours; h++) {
      running += history[offset + 1 + h]!;
      sums[h + 1]! += running;
    }
  }
  if (whole <= 0 || toPoint <= 0) return null;
  return { share: Math.min(1, toPoint / whole), cumulative: sums.map((sum) => sum / whole) };
}

const formatShare = (share: number): string => `${Number((share * 100).toPrecision(4))}%`;

const ceilMinute = (ms: number): string => new Date(Math.ceil(ms / MINUTE) * MINUTE).toISOString();

/**
 * When the projected path first exceeds `threshold`: from (now, value) through each later hour
 * position at forecast × its cumulative share, linear between them, to (end, forecast).
 */
function crossing(points: ReadonlyArray<readonly [number, number]>, threshold: number): string | null {
  for (let i = 1; i < points.length; i++) {
    const [t0, v0] = points[i - 1]!;
    const [t1, v1] = points[i]!;
    if (v1 <= threshold || t1 <= t0) continue;
    const at = v1 === v0 ? t1 : t0 + ((threshold - v0) / (v1 - v0)) * (t1 - t0);
    return ceilMinute(Math.max(t0, at));
  }
  return null;
}

export const forecast: RuleKind<'forecast', ForecastConfig> = {
  key: 'forecast',
  schema,
  example: { threshold: 150, baseline: 7, minElapsed: 0.1 },
  earlierRanges: forecastRanges,
  earlierRangeCount(config, window) {
    // without the window: the most it can be (a month's)
    const unit = window === undefined ? 'month' : isCalendarWindow(window) ? window : null;
    return unit === null ? 0 : config.baseline * (PROFILE_HOURS[unit] + 1);
  },
  compare(config, alert, context) {
    const severity = alert.severity ?? 'warning';
    const none: SeriesLevels = withLowest({}, null);
    const unit = isCalendarWindow(alert.window) ? alert.window : null;
    // without a clock (a rolling episode closing: forecasts have none) there is nothing to project
    if (unit === null || context === undefined) return { factor: null, levelsOf: () => none };
    const { now, timezone } = context;
    const hours = PROFILE_HOURS[unit];
    const current = positions(unit, now, timezone, 0);
    const start = current[0]!.getTime();
    const end = current[hours]!.getTime();
    const nowMs = now.getTime();
    const elapsed = Math.min(1, Math.max(0, (nowMs - start) / (end - start)));
    if (elapsed < config.minElapsed || elapsed === 0) return { factor: null, levelsOf: () => none };
    return {
      factor: null,
      levelsOf(history, value = 0) {
        const profile = profileOf(history(), hours);
        const share = profile?.share ?? elapsed;
        const level = config.threshold * share;
        const projected = value / share;
        let crossesAt: string | null = null;
        // the path is worked out only for a series that fires: the others' notifications don't exist
        if (value > level && value <= config.threshold) {
          const points: Array<readonly [number, number]> = [[nowMs, value]];
          if (profile !== null) {
            for (let h = 1; h < hours; h++) {
              const at = current[h]!.getTime();
              if (at > nowMs && at < end) points.push([at, projected * profile.cumulative[h]!]);
            }
          }
          points.push([end, projected]);
          crossesAt = crossing(points, config.threshold);
        }
        const projection: Projection = { forecast: projected, share, threshold: config.threshold, crossesAt };
        return { ...withLowest({ [severity]: level }, null), projection };
      },
    };
  },
  describe(config, alert, formatUsd) {
    const unit = alert.window as CalendarWindowName;
    return (
      `${alert.severity ?? 'warning'} when spend > ${formatUsd(config.threshold)} by the end of the ${unit} ` +
      `at the pace of the previous ${config.baseline} ${unit}s (from ${formatShare(config.minElapsed)} of the ${unit} on)`
    );
  },
  notificationFacts(n) {
    if (n.forecast === undefined || n.share === undefined) return [];
    const gone =
      n.crossesAt === undefined
        ? []
        : n.crossesAt === null
          ? [{ label: 'Budget', value: Date.parse(n.evaluatedAt), unit: 'instant' as const, lead: 'the {threshold} budget is already spent, at' }]
          : [{ label: 'Budget', value: Date.parse(n.crossesAt), unit: 'instant' as const, lead: 'at the usual pace the {threshold} budget is gone by' }];
    // "Spend" (so far) and "Threshold" (the budget) come first; labels fit the text's column
    const window = n.window.type;
    return [
      { label: 'Typical', value: n.share, unit: 'percent', tail: `of the ${window}'s spend by now` },
      { label: 'Forecast', value: n.forecast, unit: 'usd', tail: `for the whole ${window}` },
      ...gone,
    ];
  },
  // sendResolved / resolveBelow: forecasts have calendar windows, whose warning ("a day alert doesn't resolve") covers them
  checks: [calendarOnly, baselineBounds, notPerUser],
};

function calendarOnly(alert: Readonly<Record<string, unknown>>): ReturnType<RuleCheck> {
  const window = alert['window'];
  return typeof window === 'string' && !isCalendarWindow(window) && windowDays(window) !== undefined
    ? [{ level: 'error', path: ['window'], message: `forecast alerts need a calendar window (day, week or month), not ${window}` }]
    : [];
}

function baselineBounds(alert: Readonly<Record<string, unknown>>): ReturnType<RuleCheck> {
  const baseline = asRecord(alert['forecast'])?.['baseline'];
  if (typeof baseline !== 'number') return [];
  const path = ['forecast', 'baseline'];
  if (baseline < 1 || baseline > MAX_FORECAST_BASELINE) {
    return [{ level: 'error', path, message: `must be from 1 to ${MAX_FORECAST_BASELINE}: the number of previous windows (got ${baseline})` }];
  }
  const window = alert['window'];
  if (typeof window !== 'string' || !isCalendarWindow(window)) return [];
  const days = windowDays(window)!;
  if (days * (baseline + 1) <= MAX_LOOKBACK_DAYS) return [];
  return [
    {
      level: 'error',
      path,
      message:
        `${window} × (${baseline} + 1) reaches back ${days * (baseline + 1)} days, more than ${MAX_LOOKBACK_DAYS} days; ` +
        `with this window the baseline is at most ${Math.floor(MAX_LOOKBACK_DAYS / days) - 1}`,
    },
  ];
}

// A top-N query names the users of the current window only: their earlier windows aren't read.
function notPerUser(alert: Readonly<Record<string, unknown>>): ReturnType<RuleCheck> {
  return alert['groupBy'] === 'userId'
    ? [{ level: 'error', path: ['groupBy'], message: 'groupBy: userId works with threshold alerts only, not forecast ones' }]
    : [];
}
