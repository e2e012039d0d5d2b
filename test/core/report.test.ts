// The report's ranges (src/core/report.ts): the local dates a window touches, cut to the window, and
// the local midnights that fall inside a UTC hour — in UTC, across a DST change, at half past in Kolkata.
import { describe, expect, test } from 'vitest';
import { reportRanges } from '../../src/core/report.js';

const HOUR = 3_600_000;
const iso = (d: Date) => d.toISOString();

describe('reportRanges', () => {
  test('UTC, 7d: eight dates, the first and last cut at now, no midnight inside an hour', () => {
    const ranges = reportRanges('7d', new Date('2026-12-02T10:17:00Z'), 'UTC');
    expect(ranges.days.map((d) => d.date)).toEqual(['2026-11-25', '2026-11-26', '2026-11-27', '2026-11-28', '2026-11-29', '2026-11-30', '2026-12-01', '2026-12-02']);
    expect(iso(ranges.days[0]!.from)).toBe('2026-11-25T10:17:00.000Z');
    expect(iso(ranges.days[1]!.from)).toBe('2026-11-26T00:00:00.000Z');
    expect(iso(ranges.days.at(-1)!.to)).toBe('2026-12-02T10:17:00.000Z');
    expect(ranges.offHourMidnights).toEqual([]);
    expect(ranges.previous).toEqual({ from: new Date('2026-11-18T10:17:00Z'), to: new Date('2026-11-25T10:17:00Z') });
  });

  test('Europe/Berlin across the end of summer time: the 25-hour day is one date', () => {
    const ranges = reportRanges('7d', new Date('2026-10-28T12:00:00Z'), 'Europe/Berlin');
    const sunday = ranges.days.find((d) => d.date === '2026-10-25')!;
    expect(sunday.to.getTime() - sunday.from.getTime()).toBe(25 * HOUR);
    expect(iso(sunday.from)).toBe('2026-10-24T22:00:00.000Z');
    expect(ranges.offHourMidnights).toEqual([]);
  });

  test('Asia/Kolkata: every midnight inside the window is at half past a UTC hour', () => {
    const ranges = reportRanges('7d', new Date('2026-12-02T10:17:00Z'), 'Asia/Kolkata');
    expect(ranges.offHourMidnights.map(iso)).toEqual([
      '2026-11-25T18:30:00.000Z',
      '2026-11-26T18:30:00.000Z',
      '2026-11-27T18:30:00.000Z',
      '2026-11-28T18:30:00.000Z',
      '2026-11-29T18:30:00.000Z',
      '2026-11-30T18:30:00.000Z',
      '2026-12-01T18:30:00.000Z',
    ]);
    expect(ranges.days.map((d) => d.date)).toHaveLength(8);
  });

  test('month: from the 1st at local midnight; the previous month to the same point', () => {
    const ranges = reportRanges('month', new Date('2026-03-31T12:00:00Z'), 'UTC');
    expect(iso(ranges.current.from)).toBe('2026-03-01T00:00:00.000Z');
    expect(ranges.days).toHaveLength(31);
    // February has no 31st: the same point is clamped to its end
    expect(iso(ranges.previous.from)).toBe('2026-02-01T00:00:00.000Z');
    expect(iso(ranges.previous.to)).toBe('2026-03-01T00:00:00.000Z');
  });
});
