// One evaluation as the planner sees it: its queries grouped by filter set (top-N queries apart,
// Langfuse ranks those), each window split into whole hours and edge spans, and what is known of
// every hour, from the history cache or from this evaluation's requests. Planning reads it;
// executing adds to it; assembling answers and committing the cache read it.
import { WaitingForHistory, type SpendQuery, type SpendResult } from '../../../core/query.js';
import type { MetricsApiVersion } from '../client.js';
import type { HistoryCache } from './cache.js';
import type { Groups } from './groups.js';
import { dimensionFields, dimensionOf, filterKey, type Dimension } from './keys.js';
import { floorTo, HOUR } from './time.js';
import { FetchedView, RecordView, type FetchedHour, type HourView } from './views.js';

/** The stand-in for what a capped evaluation couldn't answer; the count is filled in after it. */
export const WAITING = new WaitingForHistory(1);

/** The newest hours missing from the cache are fetched in minute buckets: 360 rows per group at most. */
const TAIL_HOURS = 6;

/** What the planner needs besides the queries: nothing of the configuration beyond these. */
export interface EvaluationContext {
  /** the evaluation time: every query ends at or before it */
  readonly now: number;
  /** ms: hours that ended at least this long ago are final and cached */
  readonly lagMarginMs: number;
  /** sorted offsets into an hour where window edges fall (see ./cuts.ts) */
  readonly cuts: readonly number[];
  /** where each configured query's lookback begins (see ./settings.ts) */
  readonly lookbacks: Lookbacks;
  readonly cache: HistoryCache;
  /** the metrics API version the cache entries are read under */
  readonly version: MetricsApiVersion;
}

/** Per filter set and dimension, the earliest `from` of the configured alerts' queries at one hour. */
export interface Lookbacks {
  readonly hour: number;
  readonly needs: ReadonlyArray<{ readonly filters: string; readonly dim: Dimension; readonly from: number }>;
}

/** A part of a window that isn't whole hours: within one hour, or (a 1 ms edge joined to its neighbour) across two. */
export interface Span {
  readonly from: number;
  readonly to: number;
}

/** One query's window, as whole hours and edge spans. */
export interface QueryWindow {
  /** the query's index among the evaluation's queries */
  readonly index: number;
  readonly dim: Dimension;
  readonly from: number;
  readonly to: number;
  /** the whole hours inside the window, [wholeFrom, wholeTo) */
  readonly wholeFrom: number;
  readonly wholeTo: number;
  /** the rest, at most two spans (its edges) */
  readonly spans: readonly Span[];
}

/** Top-N queries asking for the same thing share one request. */
export interface TopNQuery {
  readonly query: SpendQuery;
  readonly indices: number[];
  /** set once its request is answered or failed */
  result?: SpendResult;
}

export class FilterSet {
  /** the windows of the queries with these filters; planning may join a 1 ms edge to its neighbour */
  readonly windows: QueryWindow[] = [];
  /** per dimension, the first hour any alert or query of this set needs */
  readonly keepFrom = new Map<Dimension, number>();
  readonly fetched = new Map<number, FetchedHour>();
  /** per exact range (rangeKey), the groups of each dimension asked for it */
  readonly exact = new Map<string, Map<Dimension, Groups>>();
  /** per dimension and hour, what is known (null: nothing); cleared whenever a request adds to it */
  readonly views = new Map<Dimension, Map<number, HourView | null>>();
  error: unknown = null;

  constructor(
    readonly key: string,
    readonly filters: SpendQuery['filters'],
  ) {}

  private sortedDims: Dimension[] | null = null;

  need(dim: Dimension, from: number): void {
    const hour = floorTo(from, HOUR);
    this.keepFrom.set(dim, Math.min(this.keepFrom.get(dim) ?? hour, hour));
    this.sortedDims = null;
  }

  get dims(): Dimension[] {
    return (this.sortedDims ??= [...this.keepFrom.keys()].sort());
  }

  /** The dimensions some alert needs at `hour`. */
  dimsAt(hour: number): Dimension[] {
    return this.dims.filter((dim) => this.keepFrom.get(dim)! <= hour);
  }
}

export class Evaluation {
  readonly now: number;
  readonly lastHour: number;
  /** the first hour fetched in minute buckets when missing */
  readonly tailFrom: number;
  /** hours ending before this are final */
  readonly closedBefore: number;
  readonly cuts: readonly number[];
  readonly version: MetricsApiVersion;
  readonly cache: HistoryCache;
  readonly queryCount: number;
  readonly sets = new Map<string, FilterSet>();
  readonly topN = new Map<string, TopNQuery>();
  /** per cache entry, the first hour a configured alert needs */
  readonly retainFrom = new Map<string, number>();
  /** the API version requests were answered in, when it differs from the one planned with */
  switchedTo: MetricsApiVersion | null = null;
  /** the allowance left some request unsent: what it would have answered waits for a later evaluation */
  capped = false;

  constructor(queries: readonly SpendQuery[], context: EvaluationContext) {
    this.now = context.now;
    this.lastHour = floorTo(this.now - 1, HOUR);
    this.closedBefore = this.now - context.lagMarginMs;
    // Hours not closed yet are never cached, so they are always among the newest fetched.
    this.tailFrom = Math.min(this.lastHour - (TAIL_HOURS - 1) * HOUR, floorTo(this.closedBefore, HOUR));
    this.cuts = context.cuts;
    this.version = context.version;
    this.cache = context.cache;
    this.queryCount = queries.length;
    queries.forEach((query, index) => this.add(query, index));
    // Alerts not due now still shape what the shared requests carry and what the cache keeps.
    for (const { filters, dim, from } of context.lookbacks.needs) {
      const entry = cacheEntryKey(this.version, dim, filters);
      this.retainFrom.set(entry, Math.min(this.retainFrom.get(entry) ?? Infinity, floorTo(from, HOUR)));
      this.sets.get(filters)?.need(dim, from);
    }
  }

  private add(query: SpendQuery, index: number): void {
    const key = filterKey(query.filters);
    const { shape } = query;
    if (shape.kind === 'topN') {
      const id = JSON.stringify([key, query.from.getTime(), query.to.getTime(), shape.by, shape.n, shape.labels ?? [], shape.tokens === true]);
      const entry = this.topN.get(id) ?? { query, indices: [] };
      entry.indices.push(index);
      this.topN.set(id, entry);
      return;
    }
    let set = this.sets.get(key);
    if (!set) this.sets.set(key, (set = new FilterSet(key, query.filters)));
    const dim = dimensionOf(shape);
    const from = query.from.getTime();
    const to = query.to.getTime();
    if (from < to) set.need(dim, from);
    set.windows.push(queryWindow(index, dim, from, to));
  }

  /** What is known of the hour for the dimension: fetched now, or cached once closed; undefined: nothing. */
  view(set: FilterSet, dim: Dimension, hour: number): HourView | undefined {
    let views = set.views.get(dim);
    if (!views) set.views.set(dim, (views = new Map()));
    let view = views.get(hour);
    if (view === undefined) {
      view = this.lookUp(set, dim, hour) ?? null;
      views.set(hour, view);
    }
    return view ?? undefined;
  }

  private lookUp(set: FilterSet, dim: Dimension, hour: number): HourView | undefined {
    const fetched = set.fetched.get(hour);
    if (fetched?.dims.has(dim)) return new FetchedView(fetched, dim);
    if (hour + HOUR > this.closedBefore) return undefined;
    const record = this.cache.get(cacheEntryKey(this.version, dim, set.key), hour);
    return record ? new RecordView(record) : undefined;
  }

  /**
   * Rows per bucket of a request for the dimensions: one per combination of the values of their
   * fields, each field's count the largest number of groups the cache has seen. A pair seen
   * counts its combinations as seen (fewer than its fields' counts multiplied), and a field
   * already counted with a pair isn't counted again.
   */
  groupCombinations(set: FilterSet, dims: readonly Dimension[]): number {
    const seen = (dim: Dimension): number => this.cache.maxGroups(cacheEntryKey(this.version, dim, set.key));
    const counted = new Set<Dimension>();
    let product = 1;
    for (const dim of pairsFirst(dims)) {
      const fields = dimensionFields(dim).filter((field) => !counted.has(field));
      if (fields.length === 0) continue;
      const pair = fields.length === 2 ? seen(dim) : 0;
      product *= pair > 0 ? pair : fields.reduce((count, field) => count * Math.max(1, seen(field) || seen(dim)), 1);
      for (const field of fields) counted.add(field);
    }
    return product;
  }
}

/** Pairs before single fields: their counts are the closer ones. */
function pairsFirst(dims: readonly Dimension[]): Dimension[] {
  return [...dims].sort((a, b) => dimensionFields(b).length - dimensionFields(a).length);
}

/** The window [from, to) as whole hours and the spans at its edges. */
function queryWindow(index: number, dim: Dimension, from: number, to: number): QueryWindow {
  const spans: Span[] = [];
  if (from >= to) return { index, dim, from, to, wholeFrom: from, wholeTo: from, spans };
  const first = floorTo(from, HOUR);
  const last = floorTo(to - 1, HOUR);
  if (first === last && (from !== first || to !== first + HOUR)) {
    spans.push({ from, to });
    return { index, dim, from, to, wholeFrom: from, wholeTo: from, spans };
  }
  const wholeFrom = from === first ? first : first + HOUR;
  const wholeTo = floorTo(to, HOUR);
  if (from !== wholeFrom) spans.push({ from, to: wholeFrom });
  if (to !== wholeTo) spans.push({ from: wholeTo, to });
  return { index, dim, from, to, wholeFrom, wholeTo, spans };
}

export function cacheEntryKey(version: MetricsApiVersion, dim: Dimension, filters: string): string {
  return `${version}|${dim}|${filters}`;
}

export function rangeKey(from: number, to: number): string {
  return `${from}|${to}`;
}
