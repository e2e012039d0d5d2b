import { describe, expect, it } from 'vitest';
import { isValidTimeZone, wallClock, zonedInstant } from '../../../src/core/time/zone.js';

const at = (iso: string) => new Date(iso);
const instant = (tz: string, local: Parameters<typeof zonedInstant>[0]) => zonedInstant(local, tz).toISOString();

describe('isValidTimeZone', () => {
  it('accepts IANA zones and UTC', () => {
    for (const tz of ['UTC', 'America/New_York', 'Asia/Kathmandu', 'Australia/Lord_Howe', 'Pacific/Chatham']) {
      expect(isValidTimeZone(tz)).toBe(true);
    }
  });

  it('rejects unknown zones', () => {
    for (const tz of ['', 'Mars/Olympus_Mons', 'New York', 'GMT+25']) expect(isValidTimeZone(tz)).toBe(false);
  });
});

describe('wallClock', () => {
  it('is the previous local day in New York late in the UTC night', () => {
    expect(wallClock(at('2026-11-25T03:00:00.000Z'), 'America/New_York')).toEqual({
      year: 2026,
      month: 11,
      day: 24,
      hour: 22,
      minute: 0,
      second: 0,
      ms: 0,
      weekday: 2,
    });
  });

  it('reads midnight as hour 0 and keeps milliseconds', () => {
    expect(wallClock(at('2026-01-04T00:00:00.123Z'), 'UTC')).toMatchObject({ day: 4, hour: 0, ms: 123, weekday: 7 });
    expect(wallClock(at('1969-12-31T23:59:59.999Z'), 'UTC')).toMatchObject({ year: 1969, second: 59, ms: 999 });
  });

  it('handles offsets that are not whole hours', () => {
    const t = at('2026-01-01T00:00:00Z');
    expect(wallClock(t, 'Asia/Kolkata')).toMatchObject({ day: 1, hour: 5, minute: 30 });
    expect(wallClock(t, 'Asia/Kathmandu')).toMatchObject({ day: 1, hour: 5, minute: 45 });
    expect(wallClock(t, 'Australia/Adelaide')).toMatchObject({ day: 1, hour: 10, minute: 30 });
    expect(wallClock(t, 'Pacific/Chatham')).toMatchObject({ day: 1, hour: 13, minute: 45 });
    // Lord Howe: +11 in its summer, +10:30 in winter
    expect(wallClock(t, 'Australia/Lord_Howe')).toMatchObject({ day: 1, hour: 11, minute: 0 });
    expect(wallClock(at('2026-07-01T00:00:00Z'), 'Australia/Lord_Howe')).toMatchObject({ hour: 10, minute: 30 });
  });

  it('numbers weekdays from Monday = 1', () => {
    expect(wallClock(at('2026-05-11T12:00:00Z'), 'UTC').weekday).toBe(1);
    expect(wallClock(at('2026-05-17T12:00:00Z'), 'UTC').weekday).toBe(7);
    // Monday in UTC, still Sunday evening in New York
    expect(wallClock(at('2026-05-11T02:00:00Z'), 'America/New_York').weekday).toBe(7);
  });

  it('throws on an invalid date', () => {
    expect(() => wallClock(new Date(NaN), 'UTC')).toThrow(RangeError);
  });
});

describe('zonedInstant', () => {
  it('finds local midnight in plain and odd-offset zones', () => {
    expect(instant('UTC', { year: 2026, month: 11, day: 24 })).toBe('2026-11-24T00:00:00.000Z');
    expect(instant('America/New_York', { year: 2026, month: 11, day: 24 })).toBe('2026-11-24T05:00:00.000Z');
    expect(instant('Asia/Kolkata', { year: 2026, month: 5, day: 11 })).toBe('2026-05-10T18:30:00.000Z');
    expect(instant('Asia/Kathmandu', { year: 2026, month: 5, day: 11 })).toBe('2026-05-10T18:15:00.000Z');
    expect(instant('Australia/Lord_Howe', { year: 2026, month: 1, day: 16 })).toBe('2026-01-15T13:00:00.000Z');
    expect(instant('Australia/Lord_Howe', { year: 2026, month: 7, day: 16 })).toBe('2026-07-15T13:30:00.000Z');
  });

  it('takes hours, minutes, seconds and milliseconds', () => {
    expect(instant('Europe/Berlin', { year: 2026, month: 7, day: 1, hour: 14, minute: 5, second: 6, ms: 7 })).toBe(
      '2026-07-01T12:05:06.007Z',
    );
  });

  it('rolls out-of-range fields over', () => {
    expect(instant('UTC', { year: 2026, month: 3, day: 0 })).toBe('2026-02-28T00:00:00.000Z');
    expect(instant('UTC', { year: 2028, month: 3, day: 0 })).toBe('2028-02-29T00:00:00.000Z');
    expect(instant('UTC', { year: 2026, month: 1, day: -2 })).toBe('2025-12-29T00:00:00.000Z');
    expect(instant('UTC', { year: 2026, month: 13, day: 1 })).toBe('2027-01-01T00:00:00.000Z');
  });

  it('moves a time in a spring-forward gap to the first instant after it', () => {
    // New York 2026-03-08: 02:00 EST → 03:00 EDT at 07:00Z
    expect(instant('America/New_York', { year: 2026, month: 3, day: 8, hour: 2, minute: 30 })).toBe(
      '2026-03-08T07:00:00.000Z',
    );
    expect(instant('America/New_York', { year: 2026, month: 3, day: 8, hour: 3 })).toBe('2026-03-08T07:00:00.000Z');
    expect(instant('America/New_York', { year: 2026, month: 3, day: 8, hour: 1, minute: 59 })).toBe(
      '2026-03-08T06:59:00.000Z',
    );
    // Berlin 2026-03-29: 02:00 CET → 03:00 CEST at 01:00Z
    expect(instant('Europe/Berlin', { year: 2026, month: 3, day: 29, hour: 2, minute: 30 })).toBe(
      '2026-03-29T01:00:00.000Z',
    );
    // Lord Howe 2026-10-04: 02:00 +10:30 → 02:30 +11, a 30-minute gap
    expect(instant('Australia/Lord_Howe', { year: 2026, month: 10, day: 4, hour: 2, minute: 15 })).toBe(
      '2026-10-03T15:30:00.000Z',
    );
    // Chatham 2026-09-27: 02:45 +12:45 → 03:45 +13:45
    expect(instant('Pacific/Chatham', { year: 2026, month: 9, day: 27, hour: 3 })).toBe('2026-09-26T14:00:00.000Z');
  });

  it('starts a day whose midnight does not exist at its first instant (Santiago)', () => {
    // 2026-09-06 00:00 -04 → 01:00 -03 at 04:00Z
    const start = zonedInstant({ year: 2026, month: 9, day: 6 }, 'America/Santiago');
    expect(start.toISOString()).toBe('2026-09-06T04:00:00.000Z');
    expect(wallClock(start, 'America/Santiago')).toMatchObject({ day: 6, hour: 1, minute: 0 });
  });

  it('picks the earlier instant for a time a fall-back shows twice', () => {
    // New York 2026-11-01: 01:30 is 05:30Z (EDT) and 06:30Z (EST)
    expect(instant('America/New_York', { year: 2026, month: 11, day: 1, hour: 1, minute: 30 })).toBe(
      '2026-11-01T05:30:00.000Z',
    );
    // Berlin 2026-10-25: 02:30 is 00:30Z (CEST) and 01:30Z (CET)
    expect(instant('Europe/Berlin', { year: 2026, month: 10, day: 25, hour: 2, minute: 30 })).toBe(
      '2026-10-25T00:30:00.000Z',
    );
    // Lord Howe 2026-04-05: 01:45 is 14:45Z (+11) and 15:15Z (+10:30)
    expect(instant('Australia/Lord_Howe', { year: 2026, month: 4, day: 5, hour: 1, minute: 45 })).toBe(
      '2026-04-04T14:45:00.000Z',
    );
    // Santiago 2026-04-04: 23:30 is 02:30Z (-03) and 03:30Z (-04)
    expect(instant('America/Santiago', { year: 2026, month: 4, day: 4, hour: 23, minute: 30 })).toBe(
      '2026-04-05T02:30:00.000Z',
    );
  });

  it('round-trips every half hour of a year, except second occurrences of repeated times', () => {
    const zones = [
      'UTC',
      'America/New_York',
      'Europe/Berlin',
      'America/Santiago',
      'Pacific/Chatham',
      'Australia/Lord_Howe',
      'Australia/Adelaide',
      'Asia/Kathmandu',
    ];
    const start = Date.parse('2026-01-01T00:00:00Z');
    for (const tz of zones) {
      for (let t = start; t < start + 366 * 86_400_000; t += 30 * 60_000) {
        const local = wallClock(new Date(t), tz);
        const back = zonedInstant(local, tz).getTime();
        if (back !== t) {
          // only a repeated wall-clock time may map elsewhere, and then to its earlier occurrence
          expect(back, `${tz} ${new Date(t).toISOString()}`).toBeLessThan(t);
          expect(wallClock(new Date(back), tz)).toEqual(local);
        }
      }
    }
  });

  it('throws on fields that are not numbers', () => {
    expect(() => zonedInstant({ year: 2026, month: NaN, day: 1 }, 'UTC')).toThrow(RangeError);
  });
});
