// Alert windows: the span spend is summed over at an evaluation, and the earlier spans a relative
// alert compares it with.
import type { TimeRange } from '../query.js';
import { wallClock, zonedInstant, type WallClock } from './zone.js';

export type CalendarUnit = 'day' | 'week' | 'month';

export interface CalendarWindow {
  readonly kind: 'calendar';
  readonly unit: CalendarUnit;
}

export interface RollingWindow {
  readonly kind: 'rolling';
  /** length in ms: `<n>d` is n × 24 h, not n calendar days */
  readonly ms: number;
  /** as configured, e.g. '24h' */
  readonly label: string;
}

export type WindowSpec = CalendarWindow | RollingWindow;

const HOUR = 3_600_000;

/** Parses `day | week | month | <n>h | <n>d`; throws on anything else. */
export function parseWindow(spec: string): WindowSpec {
  if (spec === 'day' || spec === 'week' || spec === 'month') return { kind: 'calendar', unit: spec };
  const match = /^([1-9][0-9]*)([hd])$/.exec(spec);
  const ms = match ? Number(match[1]) * (match[2] === 'd' ? 24 * HOUR : HOUR) : NaN;
  if (!Number.isSafeInteger(ms)) {
    throw new Error(`invalid window "${spec}": expected day, week, month, or <n>h / <n>d such as 1h, 24h, 7d`);
  }
  return { kind: 'rolling', ms, label: spec };
}

/** Local midnight starting the day / ISO week (Monday) / month that `now` is in. */
export function periodStart(spec: CalendarWindow, now: Date, timeZone: string): Date {
  const { year, month, day, weekday } = wallClock(now, timeZone);
  switch (spec.unit) {
    case 'day':
      return zonedInstant({ year, month, day }, timeZone);
    case 'week':
      return zonedInstant({ year, month, day: day - (weekday - 1) }, timeZone);
    case 'month':
      return zonedInstant({ year, month, day: 1 }, timeZone);
  }
}

/** The window spend is summed over at `now`: [period start, now) or [now − length, now). */
export function currentWindow(spec: WindowSpec, now: Date, timeZone: string): TimeRange {
  const from = spec.kind === 'calendar' ? periodStart(spec, now, timeZone) : new Date(now.getTime() - spec.ms);
  return { from, to: now };
}

/**
 * The `count` windows before the current one, oldest first, each measured to the same point.
 *
 * Rolling windows: the consecutive earlier spans of the same length, [now − 2L, now − L), ….
 *
 * Calendar windows compare wall-clock positions in the zone, so DST changes make the spans longer
 * or shorter than the current one (a previous spring-forward day's 00:00–14:00 lasts 13 h):
 * - day: 00:00 up to now's time of day, on each previous day;
 * - week: Monday 00:00 up to now's weekday and time, in each previous week;
 * - month: the 1st 00:00 up to now's day of month and time, in each previous month. A day the
 *   shorter month doesn't have (the 29th–31st) is past its end, so the span is that whole month:
 *   at March 31 14:00 February counts up to March 1 00:00. Clamping to the month's end rather than
 *   to its last day at now's time keeps every baseline growing as `now` advances (March 28 23:00
 *   → February 28 23:00, March 29 01:00 → all of February, never February 28 01:00).
 * A position that falls in a DST gap moves to the first instant after the gap; one shown twice
 * is its first occurrence (see zonedInstant).
 */
export function baselineWindows(spec: WindowSpec, now: Date, timeZone: string, count: number): TimeRange[] {
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`baselineWindows: invalid count ${count}`);
  const back = Array.from({ length: count }, (_, i) => count - i);
  if (spec.kind === 'rolling') {
    const nowMs = now.getTime();
    return back.map((k) => ({ from: new Date(nowMs - (k + 1) * spec.ms), to: new Date(nowMs - k * spec.ms) }));
  }
  const at = wallClock(now, timeZone);
  return back.map((k) => calendarWindowBack(spec.unit, at, k, timeZone));
}

function calendarWindowBack(unit: CalendarUnit, at: WallClock, k: number, timeZone: string): TimeRange {
  const { year, month, day, weekday } = at;
  const time = { hour: at.hour, minute: at.minute, second: at.second, ms: at.ms };
  switch (unit) {
    case 'day':
      return {
        from: zonedInstant({ year, month, day: day - k }, timeZone),
        to: zonedInstant({ year, month, day: day - k, ...time }, timeZone),
      };
    case 'week':
      return {
        from: zonedInstant({ year, month, day: day - (weekday - 1) - 7 * k }, timeZone),
        to: zonedInstant({ year, month, day: day - 7 * k, ...time }, timeZone),
      };
    case 'month': {
      const monthIndex = year * 12 + (month - 1) - k;
      const y = Math.floor(monthIndex / 12);
      const m = monthIndex - y * 12 + 1;
      const to =
        day <= daysInMonth(y, m)
          ? zonedInstant({ year: y, month: m, day, ...time }, timeZone)
          : zonedInstant({ year: y, month: m + 1, day: 1 }, timeZone);
      return { from: zonedInstant({ year: y, month: m, day: 1 }, timeZone), to };
    }
  }
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}
