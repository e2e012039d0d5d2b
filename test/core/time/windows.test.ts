import { describe, expect, it } from 'vitest';
import type { TimeRange } from '../../../src/core/query.js';
import {
  baselineWindows,
  currentWindow,
  parseWindow,
  periodStart,
  type WindowSpec,
} from '../../../src/core/time/windows.js';

const HOUR = 3_600_000;
const DAY: WindowSpec = { kind: 'calendar', unit: 'day' };
const WEEK: WindowSpec = { kind: 'calendar', unit: 'week' };
const MONTH: WindowSpec = { kind: 'calendar', unit: 'month' };
const NY = 'America/New_York';
const BERLIN = 'Europe/Berlin';

const at = (iso: string) => new Date(iso);
const iso = (r: TimeRange) => [r.from.toISOString(), r.to.toISOString()];
const hours = (r: TimeRange) => (r.to.getTime() - r.from.getTime()) / HOUR;
const start = (spec: WindowSpec, now: string, tz: string) =>
  spec.kind === 'calendar' ? periodStart(spec, at(now), tz).toISOString() : null;
/** the length of the local day that `now` is in */
const dayHours = (now: string, tz: string) =>
  (periodStart(DAY, new Date(at(now).getTime() + 26 * HOUR), tz).getTime() - periodStart(DAY, at(now), tz).getTime()) /
  HOUR;

describe('parseWindow', () => {
  it('parses calendar windows', () => {
    expect(parseWindow('day')).toEqual(DAY);
    expect(parseWindow('week')).toEqual(WEEK);
    expect(parseWindow('month')).toEqual(MONTH);
  });

  it('parses rolling windows in hours and 24-hour days', () => {
    expect(parseWindow('1h')).toEqual({ kind: 'rolling', ms: HOUR, label: '1h' });
    expect(parseWindow('24h')).toEqual({ kind: 'rolling', ms: 24 * HOUR, label: '24h' });
    expect(parseWindow('7d')).toEqual({ kind: 'rolling', ms: 7 * 24 * HOUR, label: '7d' });
  });

  it('rejects anything else', () => {
    for (const spec of ['', '0h', '24', 'h', '1.5h', '01h', '2w', 'Day', ' day', '1h ', '99999999999999999d']) {
      expect(() => parseWindow(spec), spec).toThrow(/invalid window/);
    }
  });
});

describe('currentWindow and periodStart: day', () => {
  it('starts at local midnight, which in New York at 03:00Z is the previous UTC date', () => {
    expect(iso(currentWindow(DAY, at('2026-11-25T03:00:00Z'), NY))).toEqual([
      '2026-11-24T05:00:00.000Z',
      '2026-11-25T03:00:00.000Z',
    ]);
    expect(start(DAY, '2026-11-25T03:00:00Z', 'UTC')).toBe('2026-11-25T00:00:00.000Z');
  });

  it('is empty at the very start of the day', () => {
    expect(iso(currentWindow(DAY, at('2026-11-24T05:00:00Z'), NY))).toEqual([
      '2026-11-24T05:00:00.000Z',
      '2026-11-24T05:00:00.000Z',
    ]);
  });

  it('has 23- and 25-hour days at DST changes', () => {
    expect(start(DAY, '2026-03-08T20:00:00Z', NY)).toBe('2026-03-08T05:00:00.000Z');
    expect(dayHours('2026-03-08T20:00:00Z', NY)).toBe(23);
    expect(start(DAY, '2026-11-01T20:00:00Z', NY)).toBe('2026-11-01T04:00:00.000Z');
    expect(dayHours('2026-11-01T20:00:00Z', NY)).toBe(25);
    expect(dayHours('2026-11-02T20:00:00Z', NY)).toBe(24);
    expect(start(DAY, '2026-03-29T12:00:00Z', BERLIN)).toBe('2026-03-28T23:00:00.000Z');
    expect(dayHours('2026-03-29T12:00:00Z', BERLIN)).toBe(23);
    expect(start(DAY, '2026-10-25T12:00:00Z', BERLIN)).toBe('2026-10-24T22:00:00.000Z');
    expect(dayHours('2026-10-25T12:00:00Z', BERLIN)).toBe(25);
  });

  it('starts a day whose midnight was skipped at its first instant (Santiago)', () => {
    expect(start(DAY, '2026-09-06T15:00:00Z', 'America/Santiago')).toBe('2026-09-06T04:00:00.000Z');
    expect(dayHours('2026-09-06T15:00:00Z', 'America/Santiago')).toBe(23);
    // the day before the fall-back hour (23:00–24:00 twice) is 25 hours long
    expect(dayHours('2026-04-04T15:00:00Z', 'America/Santiago')).toBe(25);
  });

  it('works in zones with non-whole-hour offsets and DST', () => {
    expect(start(DAY, '2026-05-10T20:00:00Z', 'Asia/Kolkata')).toBe('2026-05-10T18:30:00.000Z');
    expect(start(DAY, '2026-05-10T18:00:00Z', 'Asia/Kathmandu')).toBe('2026-05-09T18:15:00.000Z');
    expect(start(DAY, '2026-05-10T18:15:00Z', 'Asia/Kathmandu')).toBe('2026-05-10T18:15:00.000Z');
    expect(start(DAY, '2026-01-15T13:00:00Z', 'Australia/Lord_Howe')).toBe('2026-01-15T13:00:00.000Z');
    expect(start(DAY, '2026-07-15T13:29:59Z', 'Australia/Lord_Howe')).toBe('2026-07-14T13:30:00.000Z');
    // Lord Howe's DST is half an hour long
    expect(dayHours('2026-10-04T00:00:00Z', 'Australia/Lord_Howe')).toBe(23.5);
    expect(dayHours('2026-04-05T00:00:00Z', 'Australia/Lord_Howe')).toBe(24.5);
    expect(start(DAY, '2026-10-04T00:00:00Z', 'Australia/Adelaide')).toBe('2026-10-03T14:30:00.000Z');
    expect(dayHours('2026-10-04T00:00:00Z', 'Australia/Adelaide')).toBe(23);
    expect(start(DAY, '2026-09-27T00:00:00Z', 'Pacific/Chatham')).toBe('2026-09-26T11:15:00.000Z');
    expect(dayHours('2026-09-27T00:00:00Z', 'Pacific/Chatham')).toBe(23);
  });
});

describe('currentWindow and periodStart: week', () => {
  it('starts on Monday across a year boundary', () => {
    expect(start(WEEK, '2026-01-01T12:00:00Z', 'UTC')).toBe('2025-12-29T00:00:00.000Z');
    expect(start(WEEK, '2026-01-04T23:59:59Z', 'UTC')).toBe('2025-12-29T00:00:00.000Z');
    expect(start(WEEK, '2026-01-05T00:00:00Z', 'UTC')).toBe('2026-01-05T00:00:00.000Z');
  });

  it('starts on Monday across a month boundary', () => {
    expect(start(WEEK, '2026-03-01T10:00:00Z', 'UTC')).toBe('2026-02-23T00:00:00.000Z');
  });

  it('uses the local weekday: Monday 03:00Z is still Sunday in New York', () => {
    expect(iso(currentWindow(WEEK, at('2026-01-05T03:00:00Z'), NY))).toEqual([
      '2025-12-29T05:00:00.000Z',
      '2026-01-05T03:00:00.000Z',
    ]);
    expect(start(WEEK, '2026-01-05T05:00:00Z', NY)).toBe('2026-01-05T05:00:00.000Z');
  });

  it('starts at local Monday midnight in Kolkata', () => {
    expect(start(WEEK, '2026-05-10T20:00:00Z', 'Asia/Kolkata')).toBe('2026-05-10T18:30:00.000Z');
    expect(start(WEEK, '2026-05-10T18:00:00Z', 'Asia/Kolkata')).toBe('2026-05-03T18:30:00.000Z');
  });
});

describe('currentWindow and periodStart: month', () => {
  it('starts on the 1st at local midnight', () => {
    expect(start(MONTH, '2026-03-31T14:00:00Z', 'UTC')).toBe('2026-03-01T00:00:00.000Z');
    // Feb 28 22:00 in New York
    expect(start(MONTH, '2026-03-01T03:00:00Z', NY)).toBe('2026-02-01T05:00:00.000Z');
    expect(start(MONTH, '2026-01-01T00:00:00Z', 'Asia/Kathmandu')).toBe('2025-12-31T18:15:00.000Z');
  });
});

describe('currentWindow: rolling', () => {
  it('spans exactly the length back from now, DST or not', () => {
    expect(iso(currentWindow(parseWindow('24h'), at('2026-03-08T20:00:00Z'), NY))).toEqual([
      '2026-03-07T20:00:00.000Z',
      '2026-03-08T20:00:00.000Z',
    ]);
    expect(hours(currentWindow(parseWindow('7d'), at('2026-11-03T12:00:00Z'), NY))).toBe(168);
    expect(hours(currentWindow(parseWindow('1h'), at('2026-11-03T12:00:00Z'), 'UTC'))).toBe(1);
  });
});

describe('baselineWindows: rolling', () => {
  it('is the consecutive earlier spans of the same length, oldest first', () => {
    expect(baselineWindows(parseWindow('24h'), at('2026-11-24T15:00:00Z'), NY, 3).map(iso)).toEqual([
      ['2026-11-20T15:00:00.000Z', '2026-11-21T15:00:00.000Z'],
      ['2026-11-21T15:00:00.000Z', '2026-11-22T15:00:00.000Z'],
      ['2026-11-22T15:00:00.000Z', '2026-11-23T15:00:00.000Z'],
    ]);
  });

  it('returns nothing for a count of 0 and rejects a negative or fractional count', () => {
    expect(baselineWindows(parseWindow('1h'), at('2026-11-24T15:00:00Z'), 'UTC', 0)).toEqual([]);
    expect(() => baselineWindows(DAY, at('2026-11-24T15:00:00Z'), 'UTC', -1)).toThrow(RangeError);
    expect(() => baselineWindows(DAY, at('2026-11-24T15:00:00Z'), 'UTC', 1.5)).toThrow(RangeError);
  });
});

describe('baselineWindows: day', () => {
  it('measures each previous day from midnight to the same wall-clock time', () => {
    expect(baselineWindows(DAY, at('2026-11-25T19:00:00Z'), NY, 2).map(iso)).toEqual([
      ['2026-11-23T05:00:00.000Z', '2026-11-23T19:00:00.000Z'],
      ['2026-11-24T05:00:00.000Z', '2026-11-24T19:00:00.000Z'],
    ]);
  });

  it('crosses a month and year boundary', () => {
    expect(baselineWindows(DAY, at('2026-01-01T14:00:00Z'), 'UTC', 2).map(iso)).toEqual([
      ['2025-12-30T00:00:00.000Z', '2025-12-30T14:00:00.000Z'],
      ['2025-12-31T00:00:00.000Z', '2025-12-31T14:00:00.000Z'],
    ]);
  });

  it('measures DST days to the same wall-clock point (New York spring forward)', () => {
    // 2026-03-10 14:00 EDT; Mar 8 lost an hour before 14:00, Mar 7 was EST throughout
    const windows = baselineWindows(DAY, at('2026-03-10T18:00:00Z'), NY, 3);
    expect(windows.map(iso)).toEqual([
      ['2026-03-07T05:00:00.000Z', '2026-03-07T19:00:00.000Z'],
      ['2026-03-08T05:00:00.000Z', '2026-03-08T18:00:00.000Z'],
      ['2026-03-09T04:00:00.000Z', '2026-03-09T18:00:00.000Z'],
    ]);
    expect(windows.map(hours)).toEqual([14, 13, 14]);
  });

  it('measures DST days to the same wall-clock point (New York fall back)', () => {
    const windows = baselineWindows(DAY, at('2026-11-02T19:00:00Z'), NY, 1);
    expect(windows.map(iso)).toEqual([['2026-11-01T04:00:00.000Z', '2026-11-01T19:00:00.000Z']]);
    expect(windows.map(hours)).toEqual([15]);
  });

  it('measures DST days to the same wall-clock point (Berlin)', () => {
    const spring = baselineWindows(DAY, at('2026-03-30T12:00:00Z'), BERLIN, 2);
    expect(spring.map(iso)).toEqual([
      ['2026-03-27T23:00:00.000Z', '2026-03-28T13:00:00.000Z'],
      ['2026-03-28T23:00:00.000Z', '2026-03-29T12:00:00.000Z'],
    ]);
    expect(spring.map(hours)).toEqual([14, 13]);
    const autumn = baselineWindows(DAY, at('2026-10-26T13:00:00Z'), BERLIN, 1);
    expect(autumn.map(iso)).toEqual([['2026-10-24T22:00:00.000Z', '2026-10-25T13:00:00.000Z']]);
    expect(autumn.map(hours)).toEqual([15]);
  });

  it('ends a previous day whose same time was skipped at the end of the gap', () => {
    // 02:30 EDT on Mar 9; 02:30 didn't exist on Mar 8, whose clock jumped to 03:00 at 07:00Z
    expect(baselineWindows(DAY, at('2026-03-09T06:30:00Z'), NY, 1).map(iso)).toEqual([
      ['2026-03-08T05:00:00.000Z', '2026-03-08T07:00:00.000Z'],
    ]);
  });

  it('ends a previous day whose same time was shown twice at its first occurrence', () => {
    // 01:30 EST on Nov 2; on Nov 1, 01:30 EDT came first
    expect(baselineWindows(DAY, at('2026-11-02T06:30:00Z'), NY, 1).map(iso)).toEqual([
      ['2026-11-01T04:00:00.000Z', '2026-11-01T05:30:00.000Z'],
    ]);
  });

  it('works in Kathmandu and Lord Howe', () => {
    // 2026-05-11 01:30 +05:45
    expect(baselineWindows(DAY, at('2026-05-10T19:45:00Z'), 'Asia/Kathmandu', 1).map(iso)).toEqual([
      ['2026-05-09T18:15:00.000Z', '2026-05-09T19:45:00.000Z'],
    ]);
    // 2026-10-05 14:00 +11; Oct 4 began at +10:30 and lost half an hour at 02:00
    const lordHowe = baselineWindows(DAY, at('2026-10-05T03:00:00Z'), 'Australia/Lord_Howe', 1);
    expect(lordHowe.map(iso)).toEqual([['2026-10-03T13:30:00.000Z', '2026-10-04T03:00:00.000Z']]);
    expect(lordHowe.map(hours)).toEqual([13.5]);
  });

  it('keeps milliseconds of the time of day', () => {
    expect(baselineWindows(DAY, at('2026-11-25T14:00:00.250Z'), 'UTC', 1).map(iso)).toEqual([
      ['2026-11-24T00:00:00.000Z', '2026-11-24T14:00:00.250Z'],
    ]);
  });
});

describe('baselineWindows: week', () => {
  it('measures each previous week from Monday to the same weekday and time', () => {
    // Wednesday 2026-01-07 14:00
    expect(baselineWindows(WEEK, at('2026-01-07T14:00:00Z'), 'UTC', 2).map(iso)).toEqual([
      ['2025-12-22T00:00:00.000Z', '2025-12-24T14:00:00.000Z'],
      ['2025-12-29T00:00:00.000Z', '2025-12-31T14:00:00.000Z'],
    ]);
  });

  it('measures weeks across a DST change to the same wall-clock point', () => {
    // Wednesday 2026-04-01 14:00 CEST; the week before was CET throughout
    expect(baselineWindows(WEEK, at('2026-04-01T12:00:00Z'), BERLIN, 2).map(iso)).toEqual([
      ['2026-03-15T23:00:00.000Z', '2026-03-18T13:00:00.000Z'],
      ['2026-03-22T23:00:00.000Z', '2026-03-25T13:00:00.000Z'],
    ]);
  });
});

describe('baselineWindows: month', () => {
  it('measures each previous month from the 1st to the same day and time', () => {
    expect(baselineWindows(MONTH, at('2026-03-15T14:00:00Z'), 'UTC', 2).map(iso)).toEqual([
      ['2026-01-01T00:00:00.000Z', '2026-01-15T14:00:00.000Z'],
      ['2026-02-01T00:00:00.000Z', '2026-02-15T14:00:00.000Z'],
    ]);
  });

  it('clamps a day a shorter month lacks to that month’s end', () => {
    // Jan 31 exists; Feb 31 doesn't, so all of February counts
    expect(baselineWindows(MONTH, at('2026-03-31T14:00:00Z'), 'UTC', 2).map(iso)).toEqual([
      ['2026-01-01T00:00:00.000Z', '2026-01-31T14:00:00.000Z'],
      ['2026-02-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z'],
    ]);
    // across the year boundary: November has no 31st
    expect(baselineWindows(MONTH, at('2026-01-31T14:00:00Z'), 'UTC', 3).map(iso)).toEqual([
      ['2025-10-01T00:00:00.000Z', '2025-10-31T14:00:00.000Z'],
      ['2025-11-01T00:00:00.000Z', '2025-12-01T00:00:00.000Z'],
      ['2025-12-01T00:00:00.000Z', '2025-12-31T14:00:00.000Z'],
    ]);
  });

  it('never shrinks a clamped baseline as now advances', () => {
    const febEnd = (now: string) => baselineWindows(MONTH, at(now), 'UTC', 1)[0]?.to.toISOString();
    expect(febEnd('2026-03-28T23:00:00Z')).toBe('2026-02-28T23:00:00.000Z');
    expect(febEnd('2026-03-29T01:00:00Z')).toBe('2026-03-01T00:00:00.000Z');
    expect(febEnd('2026-03-31T23:59:59Z')).toBe('2026-03-01T00:00:00.000Z');
  });

  it('uses February 29 in a leap year', () => {
    expect(baselineWindows(MONTH, at('2028-03-29T14:00:00Z'), 'UTC', 1).map(iso)).toEqual([
      ['2028-02-01T00:00:00.000Z', '2028-02-29T14:00:00.000Z'],
    ]);
    expect(baselineWindows(MONTH, at('2028-03-30T14:00:00Z'), 'UTC', 1).map(iso)).toEqual([
      ['2028-02-01T00:00:00.000Z', '2028-03-01T00:00:00.000Z'],
    ]);
  });

  it('measures months across a DST change in local time', () => {
    // 2026-03-15 14:00 EDT → 2026-02-15 14:00 EST; and a clamped month ends at local midnight
    expect(baselineWindows(MONTH, at('2026-03-15T18:00:00Z'), NY, 1).map(iso)).toEqual([
      ['2026-02-01T05:00:00.000Z', '2026-02-15T19:00:00.000Z'],
    ]);
    expect(baselineWindows(MONTH, at('2026-03-31T18:00:00Z'), NY, 1).map(iso)).toEqual([
      ['2026-02-01T05:00:00.000Z', '2026-03-01T05:00:00.000Z'],
    ]);
  });
});
