// What is known about one hour of one (filter set, dimension) during an evaluation, from the cache
// or from a request just made, and which parts of the hour can be cut from it exactly.
import { internCuts, type HourRecord } from './cache.js';
import type { Dimension } from './keys.js';
import { addGroups, type Groups } from './groups.js';
import type { Granularity } from './fetch.js';
import { HOUR, MINUTE } from './time.js';

export interface HourView {
  /** no rows at all: every part of the hour is $0 without groups */
  readonly empty: boolean;
  /** Langfuse's observation count for (the known part of) the hour */
  readonly count: number;
  /** whether a sum may start or end `offset` ms into the hour */
  cuttable(offset: number): boolean;
  /** adds the spend in [from, to) (offsets, both cuttable) to `into` */
  addRange(from: number, to: number, into: Groups): void;
}

export class RecordView implements HourView {
  readonly empty: boolean;

  constructor(private readonly record: HourRecord) {
    this.empty = 'totals' in record ? record.count === 0 : record.slices.every((slice) => slice.size === 0);
  }

  get count(): number {
    return this.record.count;
  }

  cuttable(offset: number): boolean {
    return offset === HOUR || this.record.cuts.includes(offset);
  }

  /** whether the hour is cut at every one of `offsets` */
  cutAtAll(offsets: readonly number[]): boolean {
    return this.empty || offsets.every((offset) => this.cuttable(offset));
  }

  addRange(from: number, to: number, into: Groups): void {
    const record = this.record;
    const { cuts } = record;
    for (let i = 0; i < cuts.length; i++) {
      if (cuts[i]! < from || cuts[i]! >= to) continue;
      if ('totals' in record) into.set(null, (into.get(null) ?? 0) + record.totals[i]!);
      else addGroups(into, record.slices[i]!);
    }
  }
}

/** One hour as a request of this evaluation returned it: minute or hour buckets, up to `end`. */
export interface FetchedHour {
  readonly granularity: Granularity;
  readonly dims: ReadonlySet<Dimension>;
  /** ms into the hour the data reaches: the hour's end, or `now` in the open hour */
  readonly end: number;
  count: number;
  /** sorted by offset; only buckets with rows */
  readonly slices: Array<{ readonly offset: number; readonly groups: ReadonlyMap<Dimension, Groups> }>;
}

export class FetchedView implements HourView {
  readonly empty: boolean;

  constructor(
    readonly hour: FetchedHour,
    private readonly dim: Dimension,
  ) {
    this.empty = hour.slices.every((slice) => (slice.groups.get(dim)?.size ?? 0) === 0);
  }

  get count(): number {
    return this.hour.count;
  }

  cuttable(offset: number): boolean {
    if (offset === 0 || offset === this.hour.end) return true;
    return this.hour.granularity === 'minute' && offset < this.hour.end && offset % MINUTE === 0;
  }

  addRange(from: number, to: number, into: Groups): void {
    for (const slice of this.hour.slices) {
      if (slice.offset >= from && slice.offset < to) addGroups(into, slice.groups.get(this.dim) ?? new Map());
    }
  }

  /** The hour as the cache keeps it: cut at `cuts` (minute-aligned, sorted, from 0). */
  toRecord(cuts: readonly number[]): HourRecord {
    const slices = cuts.map((): Groups => new Map());
    let i = 0;
    for (const slice of this.hour.slices) {
      while (i + 1 < cuts.length && cuts[i + 1]! <= slice.offset) i++;
      addGroups(slices[i]!, slice.groups.get(this.dim) ?? new Map());
    }
    const shared = internCuts(cuts);
    if (this.dim !== '') return { count: this.hour.count, cuts: shared, slices };
    return { count: this.hour.count, cuts: shared, totals: slices.map((slice) => slice.get(null) ?? 0) };
  }
}
