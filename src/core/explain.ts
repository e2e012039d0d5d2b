// Why it fired (PRODUCT.md): a firing series' top contributors per `explain` dimension — the values
// that spent most of its spend in the window, against their baseline — and the queries they are
// cut from. Pure: the engine reads the queries and passes the answers.
//
// What a dimension costs decides where it is read:
// - model, traceName, environment and release, over the current window and the baseline ranges,
//   ride along the alert's own hourly requests: the same filter set, one more field (a series of
//   a grouped alert is cut from the pairs of its groupBy field and the dimension). Read at every
//   evaluation, they cost rows, not requests, while the rows fit a page; closed hours are cached.
// - userId has too many values to ride along: a firing series asks Langfuse for its top users,
//   then one hourly series for the users listed (explainUsersQueries).
import { isMetadataGroupBy, type AlertConfig, type AlertFilters, type GroupByField } from './alert.js';
import { filteredListUrl } from './langfuse-links.js';
import { cleanUsd } from './money.js';
import type { Contributor } from './notification.js';
import { alertReads, parsePairKey, TOTAL, type SpendQuery, type SpendReading, type TimeRange } from './query.js';
import { ruleOf } from './rules/index.js';
import type { SeriesEvaluation } from './series.js';
import { baselineWindows, currentWindow, parseWindow } from './time/windows.js';

/** `explain` when an alert doesn't set it; less the alert's own groupBy. */
export const DEFAULT_EXPLAIN: readonly GroupByField[] = ['model', 'traceName', 'userId'];
/** Values listed per dimension. */
export const TOP_CONTRIBUTORS = 3;

/** The dimensions a firing notification of the alert lists contributors by, in order; [] for none. */
export function explainOf(alert: AlertConfig): readonly GroupByField[] {
  if (ruleOf(alert).kind.contributorBaseline === 'none') return [];
  const dims = alert.explain ?? DEFAULT_EXPLAIN;
  return dims.filter((dim, index) => dim !== alert.groupBy && dims.indexOf(dim) === index);
}

/** The dimensions cut from the alert's own hourly rows: all but userId; none when its series are users (a top-N). */
export function sharedDimensions(alert: AlertConfig): readonly GroupByField[] {
  if (alert.groupBy === 'userId') return [];
  return explainOf(alert).filter((dim) => dim !== 'userId');
}

/**
 * The most Langfuse requests a firing series of the alert costs for its contributors (validate
 * shows it): userId's top-N and one hourly series per listed user; for a series that is one user
 * (groupBy userId), that user's own hourly rows and the minute buckets of an hour an edge falls in.
 */
export function requestsPerFiringSeries(alert: AlertConfig): number {
  if (alert.groupBy === 'userId') return explainOf(alert).length > 0 ? 2 : 0;
  return explainOf(alert).includes('userId') ? 1 + TOP_CONTRIBUTORS : 0;
}

/** The window the contributors are measured over, and what their baseline is measured over (oldest first). */
export interface ExplainRanges {
  readonly current: TimeRange;
  readonly baselines: readonly TimeRange[];
}

export function explainRanges(alert: AlertConfig, at: Date, timezone: string): ExplainRanges {
  const spec = parseWindow(alert.window);
  const { kind, config } = ruleOf(alert);
  const baselines = kind.contributorBaseline === 'earlier' ? kind.earlierRanges(config, spec, at, timezone) : baselineWindows(spec, at, timezone, 1);
  return { current: currentWindow(spec, at, timezone), baselines };
}

/**
 * The shared dimensions' queries over one range: per dimension (in explain order), one query per
 * read of the alert (a metadata group: one per value), split by the dimension, or for a series of
 * a grouped alert by the pair (groupBy value, dimension value).
 */
export function explainQueries(alert: AlertConfig, range: TimeRange): SpendQuery[] {
  const groupBy = alert.groupBy;
  return sharedDimensions(alert).flatMap((by) =>
    alertReads(alert).map(
      (read): SpendQuery => ({
        filters: read.filters,
        shape: groupBy === undefined || isMetadataGroupBy(groupBy) ? { kind: 'groups', by } : { kind: 'pairs', within: groupBy, by },
        from: range.from,
        to: range.to,
      }),
    ),
  );
}

/** How many queries explainQueries gives per range: the engine slices its answers with it. */
export function explainQueryCount(alert: AlertConfig): number {
  return sharedDimensions(alert).length * alertReads(alert).length;
}

/** Spend per value of a dimension within one series, over each of its ranges: the current window first, then the baselines. */
export interface SeriesBreakdown {
  readonly current: ReadonlyMap<string | null, number>;
  /** one per baseline range; empty: no baseline */
  readonly baselines: ReadonlyArray<ReadonlyMap<string | null, number>>;
  /** values whose baseline is unknown (a top user Langfuse reports as null can't be filtered on) */
  readonly noBaseline?: ReadonlySet<string | null>;
}

/**
 * One series' spend per value of `dim` over one range, cut from the answers of explainQueries
 * (`answers`: that dimension's, one per read, in order).
 */
export function seriesSlice(alert: AlertConfig, series: SeriesEvaluation, answers: readonly SpendReading[]): Map<string | null, number> {
  const groupBy = alert.groupBy;
  if (groupBy === undefined) return new Map(answers[0]?.byGroup ?? []);
  if (isMetadataGroupBy(groupBy)) return new Map(answers[(alert.values ?? []).indexOf(series.groupValue ?? '')]?.byGroup ?? []);
  const slice = new Map<string | null, number>();
  for (const [key, spend] of answers[0]?.byGroup ?? []) {
    if (key === null) continue;
    const [within, by] = parsePairKey(key);
    if (within === series.groupValue) slice.set(by, (slice.get(by) ?? 0) + spend);
  }
  return slice;
}

/**
 * The series' filters: the alert's, narrowed to the series' group (a metadata group's value is a
 * metadata filter). Null when the group is the one Langfuse reports as null: no filter selects it.
 */
export function seriesFilters(alert: AlertConfig, series: Pick<SeriesEvaluation, 'groupBy' | 'groupValue'>): AlertFilters | null {
  const filters = alert.filters ?? {};
  const groupBy = series.groupBy;
  if (groupBy === undefined) return filters;
  if (series.groupValue === null) return null;
  if (isMetadataGroupBy(groupBy)) {
    const key = groupBy.slice('metadata.'.length);
    return { ...filters, metadata: { ...filters.metadata, [key]: series.groupValue } };
  }
  if (groupBy === 'traceId') return null;
  return { ...filters, [groupBy]: series.groupValue };
}

/** A firing series' top users: one top-N query over its window. */
export function topUsersQuery(filters: AlertFilters, ranges: ExplainRanges): SpendQuery {
  return { filters, shape: { kind: 'topN', by: 'userId', n: TOP_CONTRIBUTORS }, from: ranges.current.from, to: ranges.current.to };
}

/** Up to this many baseline ranges, the listed users' baselines are one ranked query per range; beyond, one hourly series per user. */
export const RANKED_BASELINES = 3;

/** The queries for the listed users' spend over each baseline range, and how to read their answers. */
export interface UsersBaselines {
  readonly queries: SpendQuery[];
  /** per baseline range, each listed user's spend */
  read(answers: readonly SpendReading[]): Map<string | null, number>[];
}

/**
 * The listed users' spend over each baseline range. Langfuse groups by userId only as a top-N, so
 * either one top-N per range, filtered to the users (exact, not cached: 1 request per range), or
 * one hourly series per user (a filter set each, cached like the rest): whichever sends fewer.
 */
export function usersBaselines(filters: AlertFilters, users: readonly string[], ranges: ExplainRanges): UsersBaselines {
  const count = ranges.baselines.length;
  if (users.length === 0) return { queries: [], read: () => ranges.baselines.map(() => new Map()) };
  if (count <= RANKED_BASELINES) {
    return {
      queries: ranges.baselines.map((range) => ({
        filters: { ...filters, userId: [...users] },
        shape: { kind: 'topN', by: 'userId', n: users.length },
        from: range.from,
        to: range.to,
      })),
      read: (answers) => answers.map((answer) => new Map(users.map((user) => [user, answer.byGroup?.get(user) ?? 0]))),
    };
  }
  return {
    queries: users.flatMap((userId) => ranges.baselines.map((range): SpendQuery => ({ filters: { ...filters, userId }, shape: TOTAL, from: range.from, to: range.to }))),
    read: (answers) => ranges.baselines.map((_, r) => new Map(users.map((user, u) => [user, answers[u * count + r]?.total ?? 0]))),
  };
}

/** A series of a groupBy-userId alert (one user): its own breakdown by `dims`, per range, current first. */
export function userSeriesQueries(filters: AlertFilters, dims: readonly GroupByField[], ranges: ExplainRanges): SpendQuery[] {
  return dims.flatMap((by) => [ranges.current, ...ranges.baselines].map((range) => ({ filters, shape: { kind: 'groups' as const, by }, from: range.from, to: range.to })));
}

/**
 * The top contributors of a firing series, by dimension in explain order (a dimension without a
 * breakdown is left out: the caller says why). Per dimension, up to TOP_CONTRIBUTORS values with
 * spend > 0, most spend first (ties by value, so the list is stable).
 */
export function contributorsOf(
  alert: AlertConfig,
  series: SeriesEvaluation,
  breakdowns: ReadonlyMap<GroupByField, SeriesBreakdown>,
  langfuseUrl: string,
): Contributor[] {
  const filters = seriesFilters(alert, series);
  const contributors: Contributor[] = [];
  for (const dimension of explainOf(alert)) {
    const breakdown = breakdowns.get(dimension);
    if (!breakdown) continue;
    const top = [...breakdown.current].filter(([, spend]) => spend > 0).sort(bySpendThenValue).slice(0, TOP_CONTRIBUTORS);
    for (const [value, spend] of top) {
      const known = breakdown.baselines.length > 0 && !breakdown.noBaseline?.has(value);
      const baseline = known ? breakdown.baselines.reduce((sum, range) => sum + (range.get(value) ?? 0), 0) / breakdown.baselines.length : null;
      contributors.push({
        dimension,
        value,
        spend: cleanUsd(spend),
        share: series.value > 0 ? cleanUsd(spend / series.value) : 0,
        baseline: baseline === null ? null : cleanUsd(baseline),
        change: baseline === null ? null : cleanUsd(spend - baseline),
        url:
          value === null || filters === null
            ? null
            : filteredListUrl(langfuseUrl, { ...filters, [dimension]: value }, { from: series.window.from, to: series.window.to }),
      });
    }
  }
  return contributors;
}

function bySpendThenValue(a: [string | null, number], b: [string | null, number]): number {
  if (a[1] !== b[1]) return b[1] - a[1];
  if (a[0] === b[0]) return 0;
  if (a[0] === null) return 1;
  if (b[0] === null) return -1;
  return a[0] < b[0] ? -1 : 1;
}
