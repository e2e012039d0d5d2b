// Daily spend from hours of spend, for the status page's chart: calendar days in the configured
// time zone, each summed from whole slices of hours (the history cache's records). A day whose
// hours aren't all held is unknown ("no data"), never $0: the cache keeps only what some alert
// looks back over, and nothing of the hours still open.
import { wallClock, zonedInstant } from './time/zone.js';

const HOUR = 3_600_000;

/** One hour of spend cut into slices: slice i covers [cuts[i], cuts[i + 1]) ms into the hour, the last one to its end. */
export interface HourSlices {
  /** sorted, starting at 0 */
  readonly cuts: readonly number[];
  /** USD per slice */
  readonly spend: readonly number[];
}

export interface DaySpend {
  /** `2026-11-24`, in the time zone */
  readonly day: string;
  /** ISO instants the day starts and ends at (today: ends at `through` at best) */
  readonly from: string;
  readonly to: string;
  /** USD; null when the hours held don't cover the day (today: its start) */
  readonly spend: number | null;
  /** today only: the spend covers the day up to this instant (the last hour held), not the whole day */
  readonly through?: string;
}

/**
 * The `days` calendar days up to today in `timeZone`, oldest first. Past days need every slice of
 * the day; today counts its held hours from midnight on (the open hours are never held), and says
 * up to when. A day boundary inside a slice (a zone off the whole hour, whose midnight no alert cut
 * at) leaves both days unknown rather than guessed.
 */
export function dailySpend(hours: ReadonlyMap<number, HourSlices>, now: Date, timeZone: string, days: number): DaySpend[] {
  const today = wallClock(now, timeZone);
  const result: DaySpend[] = [];
  for (let back = days - 1; back >= 0; back -= 1) {
    const from = zonedInstant({ year: today.year, month: today.month, day: today.day - back }, timeZone);
    const to = zonedInstant({ year: today.year, month: today.month, day: today.day - back + 1 }, timeZone);
    const clock = wallClock(from, timeZone);
    const day = `${clock.year}-${String(clock.month).padStart(2, '0')}-${String(clock.day).padStart(2, '0')}`;
    if (back > 0) {
      result.push({ day, from: from.toISOString(), to: to.toISOString(), spend: spendBetween(hours, from.getTime(), to.getTime()) });
      continue;
    }
    const through = heldThrough(hours, from.getTime(), Math.min(to.getTime(), now.getTime()));
    const spend = through === null ? null : spendBetween(hours, from.getTime(), through);
    const end = new Date(through ?? from.getTime()).toISOString();
    result.push(spend === null ? { day, from: from.toISOString(), to: to.toISOString(), spend } : { day, from: from.toISOString(), to: end, spend, through: end });
  }
  return result;
}

/** The USD spent in [from, to) when every slice it touches is held and lies wholly inside or outside it; else null. */
function spendBetween(hours: ReadonlyMap<number, HourSlices>, from: number, to: number): number | null {
  let total = 0;
  for (let hour = Math.floor(from / HOUR) * HOUR; hour < to; hour += HOUR) {
    const record = hours.get(hour);
    if (record === undefined) return null;
    for (let i = 0; i < record.cuts.length; i += 1) {
      const start = hour + record.cuts[i]!;
      const end = hour + (record.cuts[i + 1] ?? HOUR);
      if (end <= from || start >= to) continue;
      if (start < from || end > to) return null;
      total += record.spend[i]!;
    }
  }
  return total;
}

/** The end of the run of held hours from `from`'s hour on, at most `limit`; null when not even the first is held. */
function heldThrough(hours: ReadonlyMap<number, HourSlices>, from: number, limit: number): number | null {
  let hour = Math.floor(from / HOUR) * HOUR;
  if (!hours.has(hour)) return null;
  while (hour + HOUR < limit && hours.has(hour + HOUR)) hour += HOUR;
  return Math.min(hour + HOUR, limit);
}
