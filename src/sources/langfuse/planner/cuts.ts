// Where, inside an hour, future window edges will fall. Evaluations run on cron ticks, so a rolling
// window's start (now − 24 h) or a baseline's end (yesterday at now's time) sits at a tick's minute;
// calendar windows start at local midnight, which in Asia/Kolkata is half past a UTC hour. Cached
// hours are cut at exactly these offsets, so such edges come from the cache instead of a request.
import { validateDetailed } from 'node-cron';
import { wallClock } from '../../../core/time/zone.js';
import { HOUR, MINUTE } from './time.js';

/** How far back the zone's offsets are sampled: a year covers every DST rule in force. */
const SAMPLE_SPAN_MS = 400 * 24 * HOUR;
const SAMPLE_STEP_MS = 7 * 24 * HOUR;

/** Sorted offsets (ms into a UTC hour, 0 included) at which the schedules' ticks and the zone's midnights fall. */
export function scheduleCuts(schedules: readonly string[], timezone: string, now: number): number[] {
  const localMinutes = new Set<number>([0]);
  for (const expression of new Set(schedules)) {
    const fields = validateDetailed(expression).fields;
    // Ticks at a second other than :00 can't be cut from minute buckets; their edges are queried exactly.
    if (!fields || !fields.second.includes(0)) continue;
    for (const minute of fields.minute) localMinutes.add(minute);
  }
  const cuts = new Set<number>([0]);
  for (const shift of zoneShifts(timezone, now)) {
    for (const minute of localMinutes) cuts.add((((minute * MINUTE - shift) % HOUR) + HOUR) % HOUR);
  }
  return [...cuts].sort((a, b) => a - b);
}

/** The zone's UTC offsets over the past year, modulo an hour: [0] for whole-hour zones, [1800000] for Kolkata. */
function zoneShifts(timeZone: string, now: number): Set<number> {
  const shifts = new Set<number>();
  for (let at = now - SAMPLE_SPAN_MS; at <= now; at += SAMPLE_STEP_MS) {
    const local = wallClock(new Date(at), timeZone);
    const asUtc = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second, local.ms);
    shifts.add((((asUtc - at) % HOUR) + HOUR) % HOUR);
  }
  return shifts;
}
