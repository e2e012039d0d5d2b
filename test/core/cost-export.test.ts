// The cost exporter's arithmetic: which hours are closed at the lagMargin edge, the counters'
// start, catching up after a cut answer, the gauges' periods in a zone (DST, month end), labels.
import { describe, expect, test } from 'vitest';
import {
  BoundedLabel,
  closedUntil,
  exportStep,
  neededFrom,
  periodFrom,
  readFrom,
  type CostReading,
  type CostRow,
  type KeptHours,
} from '../../src/core/cost-export.js';

const HOUR = 3_600_000;
const LAG = 15 * 60_000;
const at = (iso: string): number => Date.parse(iso);
const row = (hour: string, model: string | null, cost: number, operation: string | null = 'chat'): CostRow => ({
  hour: at(hour),
  model,
  operation,
  cost,
  inputTokens: cost * 100,
  outputTokens: cost * 10,
});
const reading = (from: string, to: Date | string, rows: CostRow[]): CostReading => ({ from: at(from), to: new Date(to).getTime(), rows });
const hoursOf = (kept: KeptHours): Record<string, Record<string, number>> =>
  Object.fromEntries([...kept.hours].map(([hour, byModel]) => [new Date(hour).toISOString(), Object.fromEntries(byModel)]));

describe('closed hours', () => {
  test('an hour is closed once it ended more than lagMargin ago', () => {
    expect(new Date(closedUntil(new Date('2026-12-02T11:14:59.999Z'), LAG)).toISOString()).toBe('2026-12-02T10:00:00.000Z');
    expect(new Date(closedUntil(new Date('2026-12-02T11:15:00.000Z'), LAG)).toISOString()).toBe('2026-12-02T11:00:00.000Z');
  });

  test('a cold start reads from the earlier of the week and month starts in the zone', () => {
    // Tuesday 1 December 2026, Berlin: the week began on Monday 30 November 00:00 CET
    const now = new Date('2026-12-01T10:00:00Z');
    expect(new Date(neededFrom(now, 'Europe/Berlin')).toISOString()).toBe('2026-11-29T23:00:00.000Z');
    expect(new Date(readFrom(null, now, 'Europe/Berlin')).toISOString()).toBe('2026-11-29T23:00:00.000Z');
    // Thursday 17 December: the month began first
    expect(new Date(readFrom(null, new Date('2026-12-17T10:00:00Z'), 'Europe/Berlin')).toISOString()).toBe('2026-11-30T23:00:00.000Z');
  });

  test('kept hours are read on from where they end, unless they no longer reach the start the gauges need', () => {
    const now = new Date('2026-12-17T10:00:00Z');
    const kept = { from: at('2026-11-30T23:00:00Z'), until: at('2026-12-17T08:00:00Z'), hours: new Map() };
    expect(readFrom(kept, now, 'Europe/Berlin')).toBe(at('2026-12-17T08:00:00Z'));
    // kept for another zone, starting later than this one's month
    expect(readFrom({ ...kept, from: at('2026-12-01T00:00:00Z') }, now, 'Europe/Berlin')).toBe(at('2026-11-30T23:00:00Z'));
    // a history that stopped before the month began (the daemon was off for weeks)
    expect(readFrom({ ...kept, from: at('2026-10-31T23:00:00Z'), until: at('2026-11-20T00:00:00Z') }, now, 'Europe/Berlin')).toBe(at('2026-11-30T23:00:00Z'));
  });
});

describe('exportStep', () => {
  const UTC = 'UTC';

  test('the first evaluation keeps the closed hours but counts none of them; the next counts exactly the hours that closed since', () => {
    const now1 = new Date('2026-12-02T11:20:00Z');
    const countFrom = closedUntil(now1, LAG);
    const first = exportStep(
      null,
      reading('2026-11-30T00:00:00Z', now1, [row('2026-12-02T09:00:00Z', 'gpt-4o', 1), row('2026-12-02T10:00:00Z', 'gpt-4o', 2), row('2026-12-02T11:00:00Z', 'gpt-4o', 4)]),
      countFrom,
      now1,
      LAG,
      UTC,
    );
    expect(first.counted).toEqual([]);
    expect(first.open.map((r) => r.cost)).toEqual([4]);
    expect(new Date(first.kept.until).toISOString()).toBe('2026-12-02T11:00:00.000Z');
    expect(first.windows?.get('day')).toEqual(new Map([['gpt-4o', 7]]));

    // 11:50: hour 11 is still open (it ends at 12:00, closed at 12:15): nothing is counted
    const now2 = new Date('2026-12-02T11:50:00Z');
    const second = exportStep(first.kept, reading('2026-12-02T11:00:00Z', now2, [row('2026-12-02T11:00:00Z', 'gpt-4o', 5)]), countFrom, now2, LAG, UTC);
    expect(second.counted).toEqual([]);
    expect(second.kept).toEqual(first.kept);
    expect(second.windows?.get('day')).toEqual(new Map([['gpt-4o', 8]]));

    // 13:15: hours 11 and 12 closed
    const now3 = new Date('2026-12-02T13:15:00Z');
    const third = exportStep(
      second.kept,
      reading('2026-12-02T11:00:00Z', now3, [row('2026-12-02T11:00:00Z', 'gpt-4o', 5), row('2026-12-02T12:00:00Z', null, 0.5), row('2026-12-02T13:00:00Z', 'gpt-4o', 0.25)]),
      countFrom,
      now3,
      LAG,
      UTC,
    );
    expect(third.counted.map((r) => [new Date(r.hour).toISOString(), r.cost])).toEqual([
      ['2026-12-02T11:00:00.000Z', 5],
      ['2026-12-02T12:00:00.000Z', 0.5],
    ]);
    expect(new Date(third.kept.until).toISOString()).toBe('2026-12-02T13:00:00.000Z');
    expect(third.windows?.get('day')).toEqual(new Map([['gpt-4o', 1 + 2 + 5 + 0.25], [null, 0.5]]));
  });

  test('an answer cut at the row limit keeps the whole hours before the cut, counts only hours from the counters start, and sets no gauge', () => {
    const now = new Date('2026-12-02T11:20:00Z');
    const countFrom = at('2026-12-02T00:00:00Z');
    const cut = exportStep(
      null,
      reading('2026-12-01T00:00:00Z', '2026-12-02T01:00:00Z', [row('2026-12-01T05:00:00Z', 'a', 1), row('2026-12-02T00:00:00Z', 'a', 2)]),
      countFrom,
      now,
      LAG,
      UTC,
    );
    expect(cut.windows).toBeNull();
    expect(new Date(cut.kept.until).toISOString()).toBe('2026-12-02T01:00:00.000Z');
    expect(cut.counted.map((r) => r.cost)).toEqual([2]);
    expect(hoursOf(cut.kept)).toEqual({ '2026-12-01T05:00:00.000Z': { a: 1 }, '2026-12-02T00:00:00.000Z': { a: 2 } });
    // the next evaluation reads on from the cut and reaches now
    const next = exportStep(cut.kept, reading('2026-12-02T01:00:00Z', now, [row('2026-12-02T03:00:00Z', 'a', 4)]), countFrom, now, LAG, UTC);
    expect(next.counted.map((r) => r.cost)).toEqual([4]);
    expect(next.windows?.get('day')).toEqual(new Map([['a', 6]]));
    expect(next.windows?.get('month')).toEqual(new Map([['a', 7]]));
  });

  test('a reading that starts elsewhere than the kept hours end (they were of no use) starts them afresh', () => {
    const now = new Date('2026-12-02T11:20:00Z');
    const stale: KeptHours = { from: at('2026-10-01T00:00:00Z'), until: at('2026-10-05T00:00:00Z'), hours: new Map([[at('2026-10-01T00:00:00Z'), new Map([['a', 9]])]]) };
    const step = exportStep(stale, reading('2026-11-30T00:00:00Z', now, [row('2026-12-01T00:00:00Z', 'a', 1)]), closedUntil(now, LAG), now, LAG, UTC);
    expect(hoursOf(step.kept)).toEqual({ '2026-12-01T00:00:00.000Z': { a: 1 } });
    expect(step.kept.from).toBe(at('2026-11-30T00:00:00Z'));
  });

  test('a new month drops the hours no gauge needs any more', () => {
    const kept: KeptHours = {
      from: at('2026-11-01T00:00:00Z'),
      until: at('2026-12-01T00:00:00Z'),
      hours: new Map([
        [at('2026-11-02T00:00:00Z'), new Map([['a', 1]])],
        [at('2026-11-30T05:00:00Z'), new Map([['a', 2]])],
      ]),
    };
    // Tuesday 1 December: the week began on Monday 30 November
    const now = new Date('2026-12-01T00:20:00Z');
    const step = exportStep(kept, reading('2026-12-01T00:00:00Z', now, []), 0, now, LAG, UTC);
    expect(step.kept.from).toBe(at('2026-11-30T00:00:00Z'));
    expect(hoursOf(step.kept)).toEqual({ '2026-11-30T05:00:00.000Z': { a: 2 } });
    expect(step.windows?.get('week')).toEqual(new Map([['a', 2]]));
    expect(step.windows?.get('month')).toEqual(new Map());
  });

  test('week and month gauges in a zone: local Monday and the 1st, across a DST change and a month end', () => {
    // Berlin left summer time on Sunday 25 October 2026 (03:00 CEST → 02:00 CET); Monday 26 October
    // 00:00 CET is 25 October 23:00 UTC; the month began on 30 September 22:00 UTC (CEST)
    const tz = 'Europe/Berlin';
    const now = new Date('2026-10-26T10:00:00Z');
    expect(new Date(periodFrom('week', now, tz)).toISOString()).toBe('2026-10-25T23:00:00.000Z');
    expect(new Date(periodFrom('month', now, tz)).toISOString()).toBe('2026-09-30T22:00:00.000Z');
    expect(new Date(periodFrom('day', now, tz)).toISOString()).toBe('2026-10-25T23:00:00.000Z');
    const rows = [
      row('2026-09-30T21:00:00Z', 'a', 100), // September 30, 23:00 CEST: the previous month
      row('2026-09-30T22:00:00Z', 'a', 1), // October 1, 00:00 CEST
      row('2026-10-25T22:00:00Z', 'a', 10), // Sunday 23:00 CET: the previous week
      row('2026-10-25T23:00:00Z', 'a', 20), // Monday 00:00 CET
      row('2026-10-26T09:00:00Z', 'b', 3),
    ];
    const step = exportStep(null, reading('2026-09-30T21:00:00Z', now, rows), 0, now, LAG, tz);
    expect(step.windows?.get('month')).toEqual(new Map([['a', 31], ['b', 3]]));
    expect(step.windows?.get('week')).toEqual(new Map([['a', 20], ['b', 3]]));
    expect(step.windows?.get('day')).toEqual(new Map([['a', 20], ['b', 3]]));
  });

  test('in a zone whose midnight is inside an hour (Kolkata) the hour holding the period start counts whole', () => {
    // 00:00 IST on 2 December is 1 December 18:30 UTC
    const now = new Date('2026-12-02T06:00:00Z');
    expect(new Date(periodFrom('day', now, 'Asia/Kolkata')).toISOString()).toBe('2026-12-01T18:00:00.000Z');
    const step = exportStep(null, reading('2026-11-30T18:00:00Z', now, [row('2026-12-01T17:00:00Z', 'a', 1), row('2026-12-01T18:00:00Z', 'a', 2)]), 0, now, LAG, 'Asia/Kolkata');
    expect(step.windows?.get('day')).toEqual(new Map([['a', 2]]));
  });
});

describe('BoundedLabel', () => {
  test('the first 50 values are themselves for good, later ones other; null and empty are none', () => {
    const label = new BoundedLabel();
    const names = Array.from({ length: 200 }, (_, i) => `model-${i}`);
    expect(names.map((name) => label.of(name)).filter((value) => value !== 'other')).toEqual(names.slice(0, 50));
    expect(label.of('model-3')).toBe('model-3');
    expect(label.of('model-120')).toBe('other');
    expect(label.of(null)).toBe('none');
    expect(label.of('')).toBe('none');
  });
});
