// What a digest reports on at a scheduled time, and its notification id.
import { describe, expect, it } from 'vitest';
import { digestNotificationId, digestRanges } from '../../src/core/digest.js';

const iso = (range: { from: Date; to: Date }) => [range.from.toISOString(), range.to.toISOString()];

describe('digestRanges', () => {
  it('7d and 30d end at the scheduled time, compared with the span of the same length before', () => {
    const at = new Date('2026-11-30T08:00:00.000Z');
    const ranges = digestRanges('7d', at, 'Europe/Berlin');
    expect(iso(ranges.current)).toEqual(['2026-11-23T08:00:00.000Z', '2026-11-30T08:00:00.000Z']);
    expect(iso(ranges.previous)).toEqual(['2026-11-16T08:00:00.000Z', '2026-11-23T08:00:00.000Z']);
    expect(iso(digestRanges('30d', at, 'UTC').current)).toEqual(['2026-10-31T08:00:00.000Z', '2026-11-30T08:00:00.000Z']);
  });

  it('week on a Monday morning in Berlin: last Monday to Sunday, local midnights, the week before as previous', () => {
    const ranges = digestRanges('week', new Date('2026-11-30T08:00:00.000Z'), 'Europe/Berlin');
    expect(iso(ranges.current)).toEqual(['2026-11-22T23:00:00.000Z', '2026-11-29T23:00:00.000Z']);
    expect(iso(ranges.previous)).toEqual(['2026-11-15T23:00:00.000Z', '2026-11-22T23:00:00.000Z']);
    expect(ranges.days.map((day) => day.date)).toEqual(['2026-11-23', '2026-11-24', '2026-11-25', '2026-11-26', '2026-11-27', '2026-11-28', '2026-11-29']);
  });

  it('day and month: the last complete one, across a DST change and a shorter month', () => {
    // 2026-10-25 in Berlin has 25 hours (summer time ends)
    const day = digestRanges('day', new Date('2026-10-26T06:00:00.000Z'), 'Europe/Berlin');
    expect(iso(day.current)).toEqual(['2026-10-24T22:00:00.000Z', '2026-10-25T23:00:00.000Z']);
    expect(iso(day.previous)).toEqual(['2026-10-23T22:00:00.000Z', '2026-10-24T22:00:00.000Z']);
    const month = digestRanges('month', new Date('2026-03-01T09:00:00.000Z'), 'UTC');
    expect(iso(month.current)).toEqual(['2026-02-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z']);
    expect(iso(month.previous)).toEqual(['2026-01-01T00:00:00.000Z', '2026-02-01T00:00:00.000Z']);
    expect(month.days).toHaveLength(28);
  });
});

describe('the notification id', () => {
  it('names the digest and its scheduled time in UTC', () => {
    expect(digestNotificationId('weekly', new Date('2026-11-30T08:00:00.000Z'))).toBe('digest|weekly|2026-11-30T08:00:00.000Z');
  });
});
