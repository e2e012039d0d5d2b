// `spend-alerts report`: what was spent and on what (PRODUCT.md, "Commands"). Pure: the ranges to
// read at `now` in a zone, and the report made from what Langfuse answered for them. The renderers
// (src/render/report/) turn the one Report into table, json, csv and html.
import type { AlertConfig } from './alert.js';
import { isCalendarWindow } from './alert.js';
import { cleanUsd } from './money.js';
import type { TimeRange } from './query.js';
import { FORECAST_DEFAULTS } from './rules/forecast.js';
import { ruleOf } from './rules/index.js';
import type { SeriesEvaluation } from './series.js';
import { baselineWindows, currentWindow, parseWindow } from './time/windows.js';
import { wallClock, zonedInstant } from './time/zone.js';

export const REPORT_WINDOWS = ['7d', '30d', 'day', 'week', 'month'] as const;
export type ReportWindow = (typeof REPORT_WINDOWS)[number];
export const REPORT_FORMATS = ['table', 'json', 'csv', 'html'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];
export const DEFAULT_TOP = 10;
export const MAX_TOP = 1000;

const HOUR = 3_600_000;

export interface Report {
  readonly window: { readonly from: string; readonly to: string; readonly timezone: string };
  readonly currency: 'USD';
  readonly total: number;
  readonly previousTotal: number;
  readonly daily: ReadonlyArray<{ readonly date: string; readonly cost: number }>;
  readonly byModel: ReadonlyArray<{ readonly model: string | null; readonly cost: number; readonly inputTokens: number; readonly outputTokens: number }>;
  readonly byTraceName: ReadonlyArray<{ readonly traceName: string | null; readonly cost: number }>;
  readonly byEnvironment: ReadonlyArray<{ readonly environment: string | null; readonly cost: number }>;
  readonly topTraces: ReadonlyArray<{ readonly traceId: string; readonly traceName: string | null; readonly userId: string | null; readonly cost: number }>;
  readonly topUsers: ReadonlyArray<{ readonly userId: string | null; readonly cost: number }>;
  readonly budgets: readonly BudgetEntry[];
}

export interface BudgetEntry {
  readonly alert: string;
  /** as in the webhook body: `{}` without groupBy, `{"model": null}` for the null group */
  readonly group: Readonly<Record<string, string | null>>;
  /** the alert's window kind: day, week or month */
  readonly window: string;
  /** the alert's own period to date, whatever the report's window is */
  readonly spend: number;
  readonly threshold: number;
  readonly forecast: number | null;
}

/** A local date the report's window touches, and the part of the window inside it. */
export interface ReportDay extends TimeRange {
  /** YYYY-MM-DD in the zone */
  readonly date: string;
}

export interface ReportRanges {
  readonly current: TimeRange;
  /** the span of the same length just before; day / week / month: the previous period to the same point */
  readonly previous: TimeRange;
  /** every local date the window touches, the first and last cut to the window */
  readonly days: readonly ReportDay[];
  /**
   * Local midnights inside the window that fall inside a UTC hour (Asia/Kolkata: at :30). Langfuse
   * buckets by UTC hour, so such an hour's spend before the midnight is read on its own.
   */
  readonly offHourMidnights: readonly Date[];
}

export function reportRanges(window: ReportWindow, now: Date, timezone: string): ReportRanges {
  const spec = parseWindow(window);
  const current = currentWindow(spec, now, timezone);
  const previous = spec.kind === 'calendar' ? baselineWindows(spec, now, timezone, 1)[0]! : { from: new Date(current.from.getTime() - spec.ms), to: current.from };
  return rangesOf(current, previous, timezone);
}

/** The report's ranges for a window and the span it is compared with, its local dates worked out in `timezone`. */
export function rangesOf(current: TimeRange, previous: TimeRange, timezone: string): ReportRanges {
  const days: ReportDay[] = [];
  const offHourMidnights: Date[] = [];
  let local = wallClock(current.from, timezone);
  for (let from = current.from; from < current.to; ) {
    const next = zonedInstant({ year: local.year, month: local.month, day: local.day + 1 }, timezone);
    const to = next < current.to ? next : current.to;
    days.push({ date: isoDate(local), from, to });
    if (next < current.to && next.getTime() % HOUR !== 0) offHourMidnights.push(next);
    from = to;
    local = wallClock(next, timezone);
  }
  return { current, previous, days, offHourMidnights };
}

function isoDate(local: { year: number; month: number; day: number }): string {
  return `${String(local.year).padStart(4, '0')}-${String(local.month).padStart(2, '0')}-${String(local.day).padStart(2, '0')}`;
}

/** What Langfuse answered for the report's own sections (numbers parsed, nulls kept as null names). */
export interface ReportAnswers {
  /** cost per UTC hour bucket over `current` (bucket start in ms), cut to the window by Langfuse */
  readonly hourly: ReadonlyMap<number, number>;
  /** per off-hour midnight (ms): the spend of its hour before it */
  readonly beforeMidnight: ReadonlyMap<number, number>;
  readonly previousTotal: number;
  readonly byModel: ReadonlyArray<{ model: string | null; cost: number; inputTokens: number; outputTokens: number }>;
  readonly byTraceName: ReadonlyArray<{ name: string | null; cost: number }>;
  readonly byEnvironment: ReadonlyArray<{ name: string | null; cost: number }>;
  readonly topTraces: ReadonlyArray<{ traceId: string; traceName: string | null; userId: string | null; cost: number }>;
  readonly topUsers: ReadonlyArray<{ name: string | null; cost: number }>;
}

/** The off-hour midnights whose hour holds spend: only their split needs a request of its own. */
export function midnightsToSplit(ranges: ReportRanges, hourly: ReadonlyMap<number, number>): Date[] {
  return ranges.offHourMidnights.filter((midnight) => (hourly.get(Math.floor(midnight.getTime() / HOUR) * HOUR) ?? 0) > 0);
}

export function buildReport(
  ranges: ReportRanges,
  answers: ReportAnswers,
  budgets: readonly BudgetEntry[],
  top: number,
  timezone: string,
): Report {
  const daily = dailyCosts(ranges, answers);
  const total = [...answers.hourly.values()].reduce((sum, cost) => sum + cost, 0);
  const byCost = <T extends { cost: number }>(rows: readonly T[], name: (row: T) => string | null): T[] =>
    [...rows].sort((a, b) => b.cost - a.cost || (name(a) ?? '').localeCompare(name(b) ?? '')).slice(0, top);
  // A group without spend says nothing about where the money goes (Langfuse's null-model group is
  // mostly its zero-cost root rows); a model with tokens and no cost is unpriced usage, and stays.
  const spent = <T extends { cost: number }>(rows: readonly T[]): T[] => rows.filter((row) => row.cost > 0);
  return {
    window: { from: ranges.current.from.toISOString(), to: ranges.current.to.toISOString(), timezone },
    currency: 'USD',
    total: cleanUsd(total),
    previousTotal: cleanUsd(answers.previousTotal),
    daily: daily.map((day) => ({ date: day.date, cost: cleanUsd(day.cost) })),
    byModel: byCost(
      answers.byModel.filter((row) => row.cost > 0 || row.inputTokens + row.outputTokens > 0),
      (row) => row.model,
    ).map((row) => ({ model: row.model, cost: cleanUsd(row.cost), inputTokens: row.inputTokens, outputTokens: row.outputTokens })),
    byTraceName: byCost(spent(answers.byTraceName), (row) => row.name).map((row) => ({ traceName: row.name, cost: cleanUsd(row.cost) })),
    byEnvironment: byCost(spent(answers.byEnvironment), (row) => row.name).map((row) => ({ environment: row.name, cost: cleanUsd(row.cost) })),
    topTraces: byCost(spent(answers.topTraces), (row) => row.traceId).map((row) => ({ ...row, cost: cleanUsd(row.cost) })),
    topUsers: byCost(spent(answers.topUsers), (row) => row.name).map((row) => ({ userId: row.name, cost: cleanUsd(row.cost) })),
    budgets: budgets.map((entry) => ({ ...entry, spend: cleanUsd(entry.spend), threshold: cleanUsd(entry.threshold), forecast: entry.forecast === null ? null : cleanUsd(entry.forecast) })),
  };
}

/**
 * Each hour bucket's spend goes to the local date it lies in; a bucket holding an off-hour
 * midnight is split there by what was read of it before the midnight.
 */
function dailyCosts(ranges: ReportRanges, answers: ReportAnswers): Array<{ date: string; cost: number }> {
  const costs = ranges.days.map((day) => ({ date: day.date, cost: 0 }));
  // the days are contiguous from the window's start, and every bucket's spend lies in the window
  const dayAt = (instant: number): number => ranges.days.findIndex((day) => instant < day.to.getTime());
  const splits = new Map(ranges.offHourMidnights.map((midnight) => [Math.floor(midnight.getTime() / HOUR) * HOUR, midnight.getTime()]));
  for (const [hour, cost] of answers.hourly) {
    if (cost === 0) continue;
    // the bucket's spend lies within the window: from its start or the window's, whichever is later
    const start = Math.max(hour, ranges.current.from.getTime());
    const midnight = splits.get(hour);
    if (midnight === undefined) {
      costs[dayAt(start)]!.cost += cost;
      continue;
    }
    const before = answers.beforeMidnight.get(midnight) ?? 0;
    costs[dayAt(start)]!.cost += before;
    costs[dayAt(midnight)]!.cost += cost - before;
  }
  return costs;
}

/** The level a budget entry compares with: the critical level, the budget of steps, or the forecast's threshold. */
function budgetThreshold(alert: AlertConfig): number | null {
  const { kind, config } = ruleOf(alert);
  if (kind.key === 'forecast') return (config as { threshold: number }).threshold;
  if (kind.key !== 'threshold') return null;
  const threshold = config as number | { warning?: number; critical?: number; budget?: number; steps?: number[] };
  if (typeof threshold === 'number') return threshold;
  if (threshold.budget !== undefined) return threshold.budget;
  return threshold.critical ?? threshold.warning ?? null;
}

/**
 * The alert a budget entry is evaluated as: a calendar threshold or forecast alert becomes a
 * forecast of its threshold with the default baseline (7), projected from the period's start on,
 * so the forecast rule itself works the projection out. `groupBy: userId` can't be a forecast (its
 * top-N names only current users): it stays as it is, its entries without a forecast. Null for
 * alerts that have no budget entry.
 */
export function budgetAlert(alert: AlertConfig): AlertConfig | null {
  if (!isCalendarWindow(alert.window)) return null;
  const threshold = budgetThreshold(alert);
  if (threshold === null) return null;
  const base = { ...alert, explain: [] } as AlertConfig & Record<string, unknown>;
  if (alert.groupBy === 'userId') return base;
  const { threshold: _threshold, forecast: _forecast, ...fields } = base;
  return { ...fields, forecast: { threshold, baseline: FORECAST_DEFAULTS.baseline, minElapsed: 0 } } as AlertConfig;
}

/**
 * The budget entries of one alert from its budget alert's series. `hasHistory(series)`: whether a
 * baseline window had spend, without which the forecast is null (the rule would fall back on
 * elapsed time, which is no forecast).
 */
export function budgetEntries(alert: AlertConfig, series: readonly SeriesEvaluation[], hasHistory: (series: SeriesEvaluation) => boolean): BudgetEntry[] {
  const threshold = budgetThreshold(alert)!;
  return series.map((s) => ({
    alert: alert.name,
    group: s.groupBy === undefined ? {} : { [s.groupBy]: s.groupValue },
    window: alert.window,
    spend: s.value,
    threshold,
    forecast: s.projection !== undefined && hasHistory(s) ? s.projection.forecast : null,
  }));
}
