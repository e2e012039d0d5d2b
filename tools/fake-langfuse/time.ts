// Time buckets as ClickHouse computes them for Langfuse, all in UTC: toStartOfMinute,
// toStartOfHour, toDate, toMonday, toStartOfMonth.
export type Bucketing = 'minute' | 'hour' | 'day' | 'week' | 'month';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

// QueryBuilder.determineTimeGranularity: aims at roughly 50 buckets.
export function pickGranularity(from: number, to: number): Bucketing {
  const hours = (to - from) / HOUR;
  if (hours < 2) return 'minute';
  if (hours < 72) return 'hour';
  if (hours < 1440) return 'day';
  if (hours < 8760) return 'week';
  return 'month';
}

export function bucketStart(ms: number, bucketing: Bucketing): number {
  switch (bucketing) {
    case 'minute':
      return Math.floor(ms / MINUTE) * MINUTE;
    case 'hour':
      return Math.floor(ms / HOUR) * HOUR;
    case 'day':
      return Math.floor(ms / DAY) * DAY;
    case 'week': {
      const day = Math.floor(ms / DAY) * DAY;
      return day - ((new Date(day).getUTCDay() + 6) % 7) * DAY;
    }
    case 'month': {
      const d = new Date(ms);
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    }
  }
}

export function nextBucket(start: number, bucketing: Bucketing): number {
  switch (bucketing) {
    case 'minute':
      return start + MINUTE;
    case 'hour':
      return start + HOUR;
    case 'day':
      return start + DAY;
    case 'week':
      return start + 7 * DAY;
    case 'month': {
      const d = new Date(start);
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
    }
  }
}

/** minute and hour buckets are datetimes ("2026-11-25T00:00:00Z"), the others dates ("2026-11-23") */
export function bucketLabel(start: number, bucketing: Bucketing): string {
  const iso = new Date(start).toISOString();
  return bucketing === 'minute' || bucketing === 'hour' ? `${iso.slice(0, 19)}Z` : iso.slice(0, 10);
}
