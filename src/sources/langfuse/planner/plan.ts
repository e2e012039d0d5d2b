// Planning, pure: which Langfuse requests answer an evaluation's queries, from what is known of
// their hours (the history cache's coverage and this evaluation's answers so far). Requests come
// in rounds: the first asks for what is missing; later ones for what the hours then known can't
// cut (window edges inside hours known only in hour buckets, edges between minutes).
//
// - Queries with the same filters share requests. Their windows are cut locally from hourly
//   buckets; several groupBy fields come from one request (each row counts for every field), and
//   so do pairs of them (a series' contributors): a request asks for the fields its dimensions
//   are made of, and its rows are hours × combined values.
// - Closed hours come from the history cache. Each evaluation fetches the hours still open (and
//   any not cached yet) in minute buckets.
// - A window edge inside an hour (now − 24 h, yesterday at now's time, midnight in Asia/Kolkata)
//   comes from the cached cuts; failing that, from the hour's minute buckets, fetched once (with
//   the uncut hours after it, where later edges will fall) and cached; failing that (an edge
//   between minutes), from an exact-range request. A closed hour is thus fetched at most twice: in
//   hour buckets, then once in minute buckets when an edge first falls inside it.
// - A top-N query is one request Langfuse ranks, shared only by identical queries.
import { ROW_LIMIT, type SpendRequest } from './fetch.js';
import { rangeKey, type Evaluation, type FilterSet, type QueryWindow, type Span, type TopNQuery } from './evaluation.js';
import type { Dimension } from './keys.js';
import { floorTo, HOUR, MINUTE } from './time.js';
import { FetchedView, RecordView } from './views.js';

/** The most rows a request may be sized for: a page of ROW_LIMIT rows may have been cut short, and is asked for again from its last bucket. */
const PAGE_ROWS = ROW_LIMIT - 1;

/** After this many rounds, whatever can't be cut is asked for exactly; the round after that is the last. */
const UPGRADE_ROUNDS = 2;
export const LAST_ROUND = UPGRADE_ROUNDS + 1;

/** A filter set's spend over a stretch of time. */
export interface SeriesRequest {
  readonly set: FilterSet;
  readonly request: SpendRequest;
}

/** A request to send: a filter set's spend, or a top-N query as it is. */
export type PlannedRequest = SeriesRequest | { readonly topN: TopNQuery };

/** The window at `position` among the set's windows, as the round's requests ask for it. */
export interface JoinedWindow {
  readonly set: FilterSet;
  readonly position: number;
  readonly window: QueryWindow;
}

export interface RequestRound {
  /** most needed first: top-N queries, then the newest hours (the open ones first) */
  readonly requests: PlannedRequest[];
  /**
   * Windows whose 1 ms edge span is asked for joined to its neighbour (Langfuse refuses a range
   * whose two inclusive ends coincide): answers are assembled from the joined spans.
   */
  readonly joined: readonly JoinedWindow[];
}

/** The requests of one round (from 1 to LAST_ROUND). */
export function planRequests(evaluation: Evaluation, round: number): RequestRound {
  const topN: PlannedRequest[] = round === 1 ? [...evaluation.topN.values()].map((entry) => ({ topN: entry })) : [];
  const joined: JoinedWindow[] = [];
  const series: SeriesRequest[] = [];
  for (const set of evaluation.sets.values()) {
    if (set.error === null) series.push(...planFilterSet(evaluation, set, round, joined));
  }
  series.sort((a, b) => b.request.to - a.request.to || b.request.from - a.request.from);
  return { requests: [...topN, ...series], joined };
}

function planFilterSet(evaluation: Evaluation, set: FilterSet, round: number, joined: JoinedWindow[]): SeriesRequest[] {
  const requests: SeriesRequest[] = [];
  const upgrades = new Map<number, boolean>();
  const exact = new Map<string, { from: number; to: number; dims: Set<Dimension> }>();
  set.windows.forEach((original, position) => {
    let window = original;
    for (let i = 0; i < window.spans.length; i++) {
      const span = window.spans[i]!;
      const hour = floorTo(span.from, HOUR);
      const view = span.to - hour > HOUR ? null : evaluation.view(set, window.dim, hour);
      if (view === undefined || view?.empty || (view && view.cuttable(span.from - hour) && view.cuttable(span.to - hour))) continue;
      if (set.exact.get(rangeKey(span.from, span.to))?.has(window.dim)) continue;
      const edges = view ? [span.from - hour, span.to - hour].filter((offset) => !view.cuttable(offset)) : [];
      if (view && round <= UPGRADE_ROUNDS && edges.every((offset) => offset % MINUTE === 0)) {
        // Hours cut at the usual offsets serve every later evaluation too: fetch the next ones along.
        const usual = edges.every((offset) => evaluation.cuts.includes(offset));
        upgrades.set(hour, (upgrades.get(hour) ?? true) && usual);
        continue;
      }
      let range: Span = span;
      if (span.to - span.from === 1) {
        window = joinNeighbour(window, i);
        range = window.spans[Math.min(i, window.spans.length - 1)]!;
      }
      const entry = exact.get(rangeKey(range.from, range.to)) ?? { from: range.from, to: range.to, dims: new Set<Dimension>() };
      // every dimension the set needs there: one whose hour isn't known yet would ask again next round
      for (const dim of set.dimsAt(hour)) entry.dims.add(dim);
      exact.set(rangeKey(range.from, range.to), entry);
    }
    if (window !== original) joined.push({ set, position, window });
  });
  // Upgrades: edges fall inside hours known only in hour buckets. Each such hour is fetched in
  // minute buckets with every uncut hour after it up to the tail, a page per request: edges
  // move forward with time, so after one round of upgrades none finds an uncut hour.
  const claimed = new Set<number>();
  const starts = [...upgrades.keys()].sort((a, b) => a - b);
  for (const start of starts) {
    const extend = upgrades.get(start)!;
    for (let hour: number | undefined = start; hour !== undefined && !claimed.has(hour); ) {
      const hours = upgradeWindow(evaluation, set, hour, extend, claimed);
      for (const h of hours) claimed.add(h);
      requests.push(seriesRequest(set, hours[0]!, hours[hours.length - 1]! + HOUR, 'minute', set.dimsAt(hour)));
      hour = extend ? nextUncut(evaluation, set, hours[hours.length - 1]! + HOUR, claimed) : undefined;
    }
  }
  // No request re-reads closed hours the cache holds just to cut them finer: an hour is fetched
  // in minutes when it is still open (the tail) or when an edge falls inside it (above), and
  // is cached cut at the usual offsets either way; nothing else is asked twice.
  requests.push(...missing(evaluation, set, claimed));
  for (const { from, to, dims } of exact.values()) requests.push(seriesRequest(set, from, to, null, [...dims]));
  return requests;
}

/** The first closed hour from `from` on, before the tail, that isn't cut at the usual offsets yet. */
function nextUncut(evaluation: Evaluation, set: FilterSet, from: number, claimed: ReadonlySet<number>): number | undefined {
  for (let hour = from; hour < evaluation.tailFrom; hour += HOUR) {
    if (!claimed.has(hour) && cutState(evaluation, set, set.dimsAt(hour), hour) === 'uncut') return hour;
  }
  return undefined;
}

/** `start` and, for the usual cuts, the hours after it that aren't cut there yet, up to a page of rows. */
function upgradeWindow(evaluation: Evaluation, set: FilterSet, start: number, extend: boolean, claimed: ReadonlySet<number>): number[] {
  const dims = set.dimsAt(start);
  const hours = [start];
  let rows = minuteRows(evaluation, set, dims, start);
  for (let hour = start + HOUR; extend && hour < evaluation.tailFrom && hour + HOUR <= evaluation.closedBefore; hour += HOUR) {
    if (claimed.has(hour) || set.dimsAt(hour).length !== dims.length || cutState(evaluation, set, dims, hour) === 'cut') break;
    rows += minuteRows(evaluation, set, dims, hour);
    if (rows > PAGE_ROWS) break;
    hours.push(hour);
  }
  return hours;
}

/** Whether the hour is known, for every dimension, at the usual cuts ('empty': without rows, nothing to cut). */
function cutState(evaluation: Evaluation, set: FilterSet, dims: readonly Dimension[], hour: number): 'uncut' | 'cut' | 'empty' {
  let empty = true;
  for (const dim of dims) {
    const view = evaluation.view(set, dim, hour);
    if (view === undefined) return 'uncut';
    if (view.empty) continue;
    empty = false;
    const cut = view instanceof RecordView ? view.cutAtAll(evaluation.cuts) : (view as FetchedView).hour.granularity === 'minute';
    if (!cut) return 'uncut';
  }
  return empty ? 'empty' : 'cut';
}

/** Rows a minute-level request of the hour may return: no more than its observations, nor 60 per group combination. */
function minuteRows(evaluation: Evaluation, set: FilterSet, dims: readonly Dimension[], hour: number): number {
  const counts = dims.map((dim) => evaluation.view(set, dim, hour)?.count).filter((count): count is number => count !== undefined);
  return Math.min(60 * evaluation.groupCombinations(set, dims), ...counts);
}

/**
 * Hours some dimension lacks: the newest in minute buckets (one request), older ones in hour
 * buckets, asking the older hours for the newer hours' dimensions too wherever one request then
 * takes fewer pages than two (a cold start's whole history is then one request).
 */
function missing(evaluation: Evaluation, set: FilterSet, claimed: ReadonlySet<number>): SeriesRequest[] {
  const first = Math.min(...set.keepFrom.values());
  // An alert's current window reaches now; a set read only over earlier ranges (a firing series'
  // contributors) needs nothing after its last one.
  const last = Math.min(evaluation.lastHour, floorTo(Math.max(...set.windows.map((window) => window.to)) - 1, HOUR));
  const runs: Array<{ from: number; to: number; dims: Dimension[]; minute: boolean }> = [];
  for (let hour = first; hour <= last; hour += HOUR) {
    const dims = set.dimsAt(hour);
    if (claimed.has(hour) || dims.every((dim) => evaluation.view(set, dim, hour) !== undefined)) continue;
    const minute = hour >= evaluation.tailFrom;
    const run = runs[runs.length - 1];
    if (run && run.to === hour && run.minute === minute && (minute || run.dims.join() === dims.join())) run.to = hour + HOUR;
    else if (run && run.to === hour && !run.minute && !minute && mergeable(evaluation, set, run, { from: hour, to: hour + HOUR, dims })) {
      // dimensions only grow with time: the newer hours' include the older ones'
      runs[runs.length - 1] = { ...run, to: hour + HOUR, dims };
    } else runs.push({ from: hour, to: hour + HOUR, dims, minute });
  }
  return runs.flatMap((run) =>
    run.minute
      ? [seriesRequest(set, run.from, Math.min(run.to, evaluation.now), 'minute', set.dims)]
      : hourChunks(evaluation, set, run.from, run.to, run.dims),
  );
}

/** Whether `older` and `newer` (adjacent hour runs) take fewer pages as one request with `newer`'s dimensions than apart. */
function mergeable(evaluation: Evaluation, set: FilterSet, older: { from: number; to: number; dims: Dimension[] }, newer: { from: number; to: number; dims: Dimension[] }): boolean {
  const pages = (from: number, to: number, dims: readonly Dimension[]): number => Math.ceil((to - from) / pageSpan(evaluation, set, dims));
  return pages(older.from, newer.to, newer.dims) <= pages(older.from, older.to, older.dims) + pages(newer.from, newer.to, newer.dims) - 1;
}

/** ms of hour buckets that fit in a page: a row per hour and group combination, as many combinations as the cache has seen. */
function pageSpan(evaluation: Evaluation, set: FilterSet, dims: readonly Dimension[]): number {
  return Math.max(1, Math.floor(PAGE_ROWS / evaluation.groupCombinations(set, dims))) * HOUR;
}

/** The stretch in requests of a page each, from its newest hours: those an allowance serves first. */
function hourChunks(evaluation: Evaluation, set: FilterSet, from: number, to: number, dims: readonly Dimension[]): SeriesRequest[] {
  const span = pageSpan(evaluation, set, dims);
  const requests: SeriesRequest[] = [];
  for (let end = to; end > from; end -= span) requests.push(seriesRequest(set, Math.max(from, end - span), end, 'hour', dims));
  return requests;
}

function seriesRequest(set: FilterSet, from: number, to: number, granularity: SpendRequest['granularity'], dims: readonly Dimension[]): SeriesRequest {
  const filled = dims.filter((dim): dim is Exclude<Dimension, ''> => dim !== '');
  return { set, request: { filters: set.filters, dims: filled, from, to, granularity } };
}

/**
 * The window with its 1 ms span at `index` joined to what lies next to it: the adjacent whole
 * hour or, without one, the other edge span.
 */
function joinNeighbour(window: QueryWindow, index: number): QueryWindow {
  const span = window.spans[index]!;
  const other = window.spans[1 - index];
  const spans = [...window.spans];
  if (span.to === window.wholeFrom && window.wholeFrom < window.wholeTo) {
    spans[index] = { from: span.from, to: window.wholeFrom + HOUR };
    return { ...window, wholeFrom: window.wholeFrom + HOUR, spans };
  }
  if (span.from === window.wholeTo && window.wholeFrom < window.wholeTo) {
    spans[index] = { from: window.wholeTo - HOUR, to: span.to };
    return { ...window, wholeTo: window.wholeTo - HOUR, spans };
  }
  if (other) return { ...window, spans: [{ from: Math.min(span.from, other.from), to: Math.max(span.to, other.to) }] };
  return window;
}
