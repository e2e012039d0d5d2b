// The cost exporter's arithmetic (`costExporter: true`): the project's hourly cost and tokens by
// model × trace name, read once per evaluation from the first hour not yet kept up to now, turned
// into counter increments (hours as they close) and window gauges (the current day, week and month
// in the zone, by model). Hours that ended more than lagMargin ago are closed: their per-model cost
// is kept for the gauges and they are never read again; the rest is read anew every time.
import { periodStart, type CalendarUnit } from './time/windows.js';

const HOUR = 3_600_000;

/** The window gauges' periods, in `timezone`. */
export const COST_WINDOWS: readonly CalendarUnit[] = ['day', 'week', 'month'];

/** One hour bucket of one model × trace name, as Langfuse sums it. */
export interface CostRow {
  /** the hour's start, ms */
  readonly hour: number;
  readonly model: string | null;
  readonly operation: string | null;
  readonly cost: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
}

/** What one request answered: the rows of every hour bucket in [from, to). */
export interface CostReading {
  /** on the hour */
  readonly from: number;
  /** now when the answer was whole; the hour where it was cut when it hit the row limit */
  readonly to: number;
  readonly rows: readonly CostRow[];
}

/** Closed hours' cost per model (null: no model), from `from` up to `until` (exclusive), on the hour. */
export interface KeptHours {
  readonly from: number;
  readonly until: number;
  readonly hours: ReadonlyMap<number, ReadonlyMap<string | null, number>>;
}

export interface ExportStep {
  readonly kept: KeptHours;
  /** the rows of hours that closed with this reading and are at or after the counters' start */
  readonly counted: readonly CostRow[];
  /** the rows of hours still open: counted once they close */
  readonly open: readonly CostRow[];
  /** per window, each model's cost in the current period up to now; null while the reading falls short of now (catching up) */
  readonly windows: ReadonlyMap<CalendarUnit, ReadonlyMap<string | null, number>> | null;
}

export function floorHour(ms: number): number {
  return Math.floor(ms / HOUR) * HOUR;
}

/** Hours before this one ended more than `lagMarginMs` before `now`: they are closed. */
export function closedUntil(now: Date, lagMarginMs: number): number {
  return floorHour(now.getTime() - lagMarginMs);
}

/**
 * The hour a gauge's period is summed from: the hour its local start falls in. In a zone whose
 * midnight is not on the hour (Asia/Kolkata) Langfuse's hourly buckets can't split it, so that
 * hour counts whole: the gauge includes up to the minutes of it before the period began.
 */
export function periodFrom(unit: CalendarUnit, now: Date, timezone: string): number {
  return floorHour(periodStart({ kind: 'calendar', unit }, now, timezone).getTime());
}

/** The earliest hour the gauges need at `now`: the start of the current week or month, whichever is first. */
export function neededFrom(now: Date, timezone: string): number {
  return Math.min(periodFrom('week', now, timezone), periodFrom('month', now, timezone));
}

/**
 * Where the next request starts: the first hour not kept, or, without usable kept hours (a cold
 * start, a history that no longer reaches back to the start the gauges need or forward to it),
 * that start.
 */
export function readFrom(kept: KeptHours | null, now: Date, timezone: string): number {
  const needed = neededFrom(now, timezone);
  return kept !== null && kept.from <= needed && kept.until >= needed ? kept.until : needed;
}

/**
 * Takes in a reading: the hours it covers that are closed are kept (and counted when at or after
 * `countFrom`), those before the gauges' earliest period are dropped, and when the reading reached
 * now every window's cost by model is the kept hours of its period plus the open hours read.
 */
export function exportStep(kept: KeptHours | null, reading: CostReading, countFrom: number, now: Date, lagMarginMs: number, timezone: string): ExportStep {
  const base: KeptHours = kept !== null && kept.until === reading.from ? kept : { from: reading.from, until: reading.from, hours: new Map() };
  const until = Math.max(base.until, Math.min(closedUntil(now, lagMarginMs), floorHour(reading.to)));
  const from = Math.max(base.from, Math.min(neededFrom(now, timezone), until));
  const hours = new Map<number, ReadonlyMap<string | null, number>>();
  for (const [hour, byModel] of base.hours) if (hour >= from) hours.set(hour, byModel);
  const counted: CostRow[] = [];
  const open: CostRow[] = [];
  for (const row of reading.rows) {
    if (row.hour < base.until) continue;
    if (row.hour >= until) {
      open.push(row);
      continue;
    }
    if (row.hour >= countFrom) counted.push(row);
    if (row.hour < from) continue;
    const byModel = new Map(hours.get(row.hour) ?? []);
    byModel.set(row.model, (byModel.get(row.model) ?? 0) + row.cost);
    hours.set(row.hour, byModel);
  }
  const next: KeptHours = { from, until, hours };
  if (reading.to < now.getTime()) return { kept: next, counted, open, windows: null };
  const windows = new Map<CalendarUnit, Map<string | null, number>>();
  for (const unit of COST_WINDOWS) {
    const start = periodFrom(unit, now, timezone);
    const byModel = new Map<string | null, number>();
    const add = (model: string | null, cost: number): void => {
      byModel.set(model, (byModel.get(model) ?? 0) + cost);
    };
    for (const [hour, costs] of hours) if (hour >= start) for (const [model, cost] of costs) add(model, cost);
    for (const row of open) if (row.hour >= start) add(row.model, row.cost);
    windows.set(unit, byModel);
  }
  return { kept: next, counted, open, windows };
}

/** Label values per label at most, besides `none` and `other`. */
export const LABEL_VALUES_LIMIT = 50;
export const NO_VALUE_LABEL = 'none';
export const OTHER_VALUES_LABEL = 'other';

/**
 * One label's values, bounded: the first `limit` distinct values are themselves for good, later
 * ones are `other`; null (or empty, which Prometheus reads as absent) is `none`.
 */
export class BoundedLabel {
  private readonly known = new Set<string>();

  constructor(private readonly limit = LABEL_VALUES_LIMIT) {}

  of(value: string | null): string {
    if (value === null || value === '') return NO_VALUE_LABEL;
    if (this.known.has(value)) return value;
    if (this.known.size >= this.limit) return OTHER_VALUES_LABEL;
    this.known.add(value);
    return value;
  }
}
