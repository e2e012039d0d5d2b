// Wall-clock arithmetic in IANA time zones on top of Intl alone: the tz database shipped with Node
// is the only source of offsets, so DST rules and odd offsets (+5:45, Lord Howe's 30-minute DST)
// come for free and stay as current as the runtime.

export interface LocalDateTime {
  readonly year: number;
  /** 1–12 */
  readonly month: number;
  /** 1–31 */
  readonly day: number;
  readonly hour?: number;
  readonly minute?: number;
  readonly second?: number;
  readonly ms?: number;
}

export interface WallClock {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly ms: number;
  /** ISO weekday: 1 = Monday … 7 = Sunday */
  readonly weekday: number;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

// Building a DateTimeFormat costs far more than formatting with one, and evaluation asks the same
// few zones over and over.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      // h23, not hour12: false — the latter prints midnight as "24" on some ICU versions.
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      numberingSystem: 'latn',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** True when Intl knows the zone (IANA names, case-insensitively, and aliases such as UTC). */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** Milliseconds since the epoch of a wall-clock reading taken as if it were UTC. Out-of-range fields roll over. */
function localMs(t: LocalDateTime): number {
  const d = new Date(0);
  // setUTCFullYear, unlike Date.UTC, doesn't map years 0–99 to 1900–1999.
  d.setUTCFullYear(t.year, t.month - 1, t.day);
  d.setUTCHours(t.hour ?? 0, t.minute ?? 0, t.second ?? 0, t.ms ?? 0);
  return d.getTime();
}

function fieldsAt(epochMs: number, timeZone: string): Omit<WallClock, 'weekday'> {
  const fields: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(epochMs)) {
    if (part.type !== 'literal') fields[part.type] = Number(part.value);
  }
  return {
    year: fields['year'] ?? NaN,
    month: fields['month'] ?? NaN,
    day: fields['day'] ?? NaN,
    hour: fields['hour'] ?? NaN,
    minute: fields['minute'] ?? NaN,
    second: fields['second'] ?? NaN,
    // No zone offset has ever had a fractional second, so the milliseconds are the instant's own.
    ms: ((epochMs % 1000) + 1000) % 1000,
  };
}

/** The zone's UTC offset at an instant, in ms (local − UTC). */
function offsetAt(epochMs: number, timeZone: string): number {
  return localMs(fieldsAt(epochMs, timeZone)) - epochMs;
}

/** The wall-clock reading in `timeZone` at `instant`. */
export function wallClock(instant: Date, timeZone: string): WallClock {
  const epochMs = instant.getTime();
  if (Number.isNaN(epochMs)) throw new RangeError('wallClock: invalid Date');
  const f = fieldsAt(epochMs, timeZone);
  const sundayIs0 = new Date(localMs({ year: f.year, month: f.month, day: f.day })).getUTCDay();
  return { ...f, weekday: sundayIs0 === 0 ? 7 : sundayIs0 };
}

/**
 * The instant at which the clocks in `timeZone` show `local`. Out-of-range fields roll over like
 * Date.UTC (day 0 is the last day of the previous month), which keeps calendar arithmetic simple.
 *
 * - A time skipped by a forward transition (02:30 on a US spring-forward day) gives the first
 *   instant after the gap (03:00 local), so the start of a day whose midnight doesn't exist
 *   (America/Santiago) is its 01:00.
 * - A time shown twice by a backward transition (01:30 on a US fall-back day) gives the earlier
 *   instant, so a span starting there covers everything the clock later labels with that time.
 */
export function zonedInstant(local: LocalDateTime, timeZone: string): Date {
  const target = localMs(local);
  if (Number.isNaN(target)) throw new RangeError('zonedInstant: invalid local date-time');
  // A local time is less than a day away from its instant, and zones don't change offset twice
  // within two days, so the offsets a day either side are the only candidates.
  const before = offsetAt(target - DAY, timeZone);
  const after = offsetAt(target + DAY, timeZone);
  const matches = (before === after ? [before] : [before, after])
    .map((offset) => target - offset)
    .filter((epochMs) => offsetAt(epochMs, timeZone) === target - epochMs);
  if (matches.length > 0) return new Date(Math.min(...matches));

  // In a gap: just before the transition the old offset applies, from it on the new one.
  let lo = target - after;
  let hi = target - before;
  const old = offsetAt(lo, timeZone);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (offsetAt(mid, timeZone) === old) lo = mid;
    else hi = mid;
  }
  return new Date(hi);
}
