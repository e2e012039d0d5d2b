// Turns the spend read for one alert into one evaluation per series. Pure: the caller reads the
// ranges neededRanges asks for and passes `now`.
import type { AlertConfig, GroupByField, Severity } from '../config/schema.js';
import type { SpendReading, TimeRange } from './query.js';
import { baselineWindows, currentWindow, parseWindow, periodStart } from './time/windows.js';
import type { SeriesEvaluation } from './series.js';

export interface AlertReadings {
  /** spend over `neededRanges(…).current` */
  readonly current: SpendReading;
  /** spend over each of `neededRanges(…).baselines`, in the same order (oldest first) */
  readonly baselines: readonly SpendReading[];
}

export interface EvaluationContext {
  readonly now: Date;
  readonly timezone: string;
}

export interface NeededRanges {
  readonly current: TimeRange;
  /** oldest first; empty unless the alert is relative */
  readonly baselines: TimeRange[];
}

/** What to read from Langfuse to evaluate `alert` at `now`. */
export function neededRanges(alert: AlertConfig, now: Date, timezone: string): NeededRanges {
  const spec = parseWindow(alert.window);
  return {
    current: currentWindow(spec, now, timezone),
    baselines: alert.relative ? baselineWindows(spec, now, timezone, alert.relative.baseline) : [],
  };
}

/** One evaluation per series: per groupBy value present in the current reading, or one without groupBy. */
export function evaluateAlert(alert: AlertConfig, readings: AlertReadings, ctx: EvaluationContext): SeriesEvaluation[] {
  if ((alert.threshold === undefined) === (alert.relative === undefined)) {
    throw new Error(`alert ${alert.name}: needs exactly one of threshold and relative`);
  }
  const spec = parseWindow(alert.window);
  const current = currentWindow(spec, ctx.now, ctx.timezone);
  const window = {
    type: alert.window,
    from: current.from.toISOString(),
    to: ctx.now.toISOString(),
    timezone: ctx.timezone,
  };
  const start = spec.kind === 'calendar' ? periodStart(spec, ctx.now, ctx.timezone) : null;
  const rolling = spec.kind === 'rolling';

  // With groupBy an alert has up to thousands of series per evaluation: what they share (and a
  // threshold's levels) is made once, and each series is one plain object literal. (Spreading the
  // shared part into each instead measured 15× slower on Node 20: `npm run bench -- b`.)
  const kind = alert.relative ? 'relative' : 'threshold';
  const factor = alert.relative?.factor ?? null;
  const fixed = alert.relative ? null : withLowest({ levels: thresholdLevels(alert), baseline: null });
  const evaluateSeries = (groupValue: string | null, value: number, history: () => readonly number[]): SeriesEvaluation => {
    const { levels, baseline, lowest } = fixed ?? withLowest(relativeLevels(alert, history()));
    const floorMet = alert.minSpend === undefined || value >= alert.minSpend;
    return {
      alert: alert.name,
      kind,
      groupBy: alert.groupBy,
      groupValue,
      seriesKey: seriesKey(alert.groupBy, groupValue),
      value,
      breach: floorMet ? highestCrossed(levels, value) : null,
      levels,
      baseline,
      factor,
      window,
      periodStart: start,
      // Math.min() of no levels is Infinity: with nothing to compare a series has recovered.
      recovered: rolling && value < alert.resolveBelow * lowest,
    };
  };

  if (alert.groupBy === undefined) {
    return [evaluateSeries(null, readings.current.total, () => readings.baselines.map((r) => r.total))];
  }
  const baselineGroups = readings.baselines.map((r) => groupsOf(r, alert));
  const series: SeriesEvaluation[] = [];
  for (const [groupValue, value] of groupsOf(readings.current, alert)) {
    series.push(evaluateSeries(groupValue, value, () => baselineGroups.map((groups) => groups.get(groupValue) ?? 0)));
  }
  return series;
}

/** '' without groupBy; `model=gpt-4o`; `model:null` for the null group, so a model named "null" can't collide. */
export function seriesKey(groupBy: GroupByField | undefined, groupValue: string | null): string {
  if (groupBy === undefined) return '';
  return groupValue === null ? `${groupBy}:null` : `${groupBy}=${groupValue}`;
}

function groupsOf(reading: SpendReading, alert: AlertConfig): ReadonlyMap<string | null, number> {
  if (reading.byGroup === null) throw new Error(`alert ${alert.name}: reading without groups for groupBy ${alert.groupBy}`);
  return reading.byGroup;
}

type Levels = Partial<Record<Severity, number>>;
interface LevelsAndBaseline {
  readonly levels: Levels;
  readonly baseline: number | null;
}

function withLowest(found: LevelsAndBaseline): LevelsAndBaseline & { readonly lowest: number } {
  return { ...found, lowest: Math.min(...Object.values(found.levels)) };
}

function relativeLevels(alert: AlertConfig, history: readonly number[]): LevelsAndBaseline {
  const baseline = baselineOf(history);
  if (baseline === null || !alert.relative) return { levels: {}, baseline };
  return { levels: { [alert.severity ?? 'warning']: alert.relative.factor * baseline }, baseline };
}

function thresholdLevels(alert: AlertConfig): Levels {
  const threshold = alert.threshold;
  if (typeof threshold === 'number') return { [alert.severity ?? 'critical']: threshold };
  const levels: Levels = {};
  if (threshold?.warning !== undefined) levels.warning = threshold.warning;
  if (threshold?.critical !== undefined) levels.critical = threshold.critical;
  return levels;
}

/**
 * The mean of the baseline windows, or null without history. We only know each window's total, not
 * when in it spend began, so "windows that end before the first spend don't count" becomes: the
 * windows before the first one with spend are dropped (the series didn't exist yet, or wasn't
 * traced); a window with spend, and every empty window after it, counts in full.
 */
function baselineOf(history: readonly number[]): number | null {
  const first = history.findIndex((spend) => spend > 0);
  if (first === -1) return null;
  const counted = history.slice(first);
  return counted.reduce((sum, spend) => sum + spend, 0) / counted.length;
}

// Severities from the most to the least severe: the first level crossed is the breach.
const BY_SEVERITY: readonly Severity[] = ['critical', 'warning'];

function highestCrossed(levels: Levels, value: number): Severity | null {
  return BY_SEVERITY.find((severity) => levels[severity] !== undefined && value > levels[severity]) ?? null;
}
