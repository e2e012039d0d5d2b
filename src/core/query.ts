// What the evaluation core needs from Langfuse, and nothing more: the cost over one time range,
// as a total, split by one field or by the pairs of values of two, or the top spenders of one
// field. A planner can answer many of these from fewer requests.
import { isMetadataGroupBy, metadataKey, type AlertConfig, type AlertFilters, type GroupByField } from './alert.js';
import { RULES } from './rules/index.js';
import type { RuleKind } from './rules/rule.js';

export interface TimeRange {
  /** inclusive */
  readonly from: Date;
  /** exclusive */
  readonly to: Date;
}

/** A field Langfuse ranks in a top-N: a groupBy field, or single traces. */
export type RankedField = GroupByField | 'traceId';

/**
 * What a query asks for: the spend over its range as one number, per value of a field, or for the
 * `n` values of a field that spent most (a field with too many values to list them all), with
 * the values of `labels` each of those had (a trace's name and user).
 */
export type QueryShape =
  | { readonly kind: 'total' }
  | { readonly kind: 'groups'; readonly by: GroupByField }
  /** per pair of values of two fields: `byGroup` keyed by `pairKey(within value, by value)` (a series' contributors) */
  | { readonly kind: 'pairs'; readonly within: GroupByField; readonly by: GroupByField }
  | {
      readonly kind: 'topN';
      readonly by: RankedField;
      readonly n: number;
      readonly labels?: readonly GroupByField[];
      /** also the input and output tokens of each ranked value (unpriced: tokens without cost) */
      readonly tokens?: boolean;
    };

export const TOTAL: QueryShape = { kind: 'total' };

export interface SpendQuery extends TimeRange {
  readonly filters: AlertFilters;
  readonly shape: QueryShape;
}

/** The field a query splits its spend by, if any (for pairs: the second of the two). */
export function groupField(shape: QueryShape): RankedField | undefined {
  return shape.kind === 'total' ? undefined : shape.by;
}

/** The group key of a pair of values (`pairs` readings): JSON, so that null and any string stay apart. */
export function pairKey(within: string | null, by: string | null): string {
  return JSON.stringify([within, by]);
}

/** The two values of a `pairKey`. */
export function parsePairKey(key: string): [string | null, string | null] {
  return JSON.parse(key) as [string | null, string | null];
}

/**
 * How an alert's reads are shaped: its rule's own shape (perTrace: the top traces), else by its
 * groupBy; userIds are too many to list, so Langfuse ranks the top spenders; a metadata group reads
 * one total per value (`alertReads`).
 */
export function alertShape(alert: AlertConfig): QueryShape {
  for (const rule of RULES as readonly RuleKind[]) {
    const config = alert[rule.key as keyof AlertConfig];
    if (config !== undefined && rule.shape) return rule.shape(config);
  }
  if (alert.groupBy === undefined || isMetadataGroupBy(alert.groupBy)) return TOTAL;
  if (alert.groupBy === 'userId') return { kind: 'topN', by: alert.groupBy, n: alert.top };
  return { kind: 'groups', by: alert.groupBy };
}

/** What an alert reads over each of its ranges, before the range is known. */
export interface AlertRead {
  readonly filters: AlertFilters;
  readonly shape: QueryShape;
}

/** An alert's reads, made once per alert object: the planner keys a filter set once per filters object. */
const readsOf = new WeakMap<AlertConfig, readonly AlertRead[]>();

/**
 * What an alert reads over one range: one read; with `groupBy: metadata.KEY` (Langfuse filters on
 * metadata but can't group by it) one total per listed value, that value added to the alert's
 * filters (`metadata: {KEY: value}`), in the order of `values`. Each is a filter set of its own.
 */
export function alertReads(alert: AlertConfig): readonly AlertRead[] {
  let reads = readsOf.get(alert);
  if (reads !== undefined) return reads;
  const filters = alert.filters ?? {};
  if (isMetadataGroupBy(alert.groupBy)) {
    const key = metadataKey(alert.groupBy);
    reads = (alert.values ?? []).map((value) => ({ filters: { ...filters, metadata: { ...filters.metadata, [key]: value } }, shape: TOTAL }));
  } else {
    reads = [{ filters, shape: alertShape(alert) }];
  }
  readsOf.set(alert, reads);
  return reads;
}

/** What an alert reads over one of its ranges: `alertReads`, each over the range. */
export function alertRangeQueries(alert: AlertConfig, range: TimeRange): SpendQuery[] {
  return alertReads(alert).map((read) => ({ filters: read.filters, shape: read.shape, from: range.from, to: range.to }));
}

/**
 * The alert's reading of one range from the answers to its `alertRangeQueries`, in their order: the
 * one answer, or for a metadata group the total of each value as that value's group (every listed
 * value has one, $0 without spend; no other value has one).
 */
export function alertReading(alert: AlertConfig, answers: readonly SpendReading[]): SpendReading {
  if (!isMetadataGroupBy(alert.groupBy)) return answers[0]!;
  const byGroup = new Map<string | null, number>();
  let total = 0;
  (alert.values ?? []).forEach((value, index) => {
    const spend = answers[index]?.total ?? 0;
    byGroup.set(value, spend);
    total += spend;
  });
  return { total, byGroup };
}

export interface SpendReading {
  /** USD over the whole range (all groups together) */
  readonly total: number;
  /** USD per group value unless the query asked for a total; `null` is the group Langfuse reports as null */
  readonly byGroup: ReadonlyMap<string | null, number> | null;
  /** a top-N with `labels`: per group, the value of each label field (null where Langfuse has none) */
  readonly labels?: ReadonlyMap<string | null, Readonly<Record<string, string | null>>>;
  /** a top-N with `tokens`: per group, its tokens */
  readonly tokens?: ReadonlyMap<string | null, TokenUsage>;
}

/** Tokens of a ranked value over the range: what Langfuse sums as inputTokens and outputTokens. */
export interface TokenUsage {
  readonly input: number;
  readonly output: number;
  readonly total: number;
}

export type SpendResult = PromiseSettledResult<SpendReading>;

/**
 * Answers every query of one evaluation at once, so an implementation may share requests
 * between them (one per filter set, cut locally) and cache what can't change any more.
 * The results are in the order of the queries; one failing doesn't fail the others.
 */
export interface SpendSource {
  /** `at`: the evaluation time, when no query ends at it (a firing series' earlier ranges); else the latest end */
  spendAll(queries: readonly SpendQuery[], signal?: AbortSignal, at?: Date): Promise<SpendResult[]>;
}

/**
 * A query that can't be answered yet, and isn't a failure: the request budget lets one evaluation
 * fetch only part of a long history, and the rest comes with the next ones. The alert is left
 * as it was (not evaluated, not failed) until its history is complete.
 */
export class WaitingForHistory extends Error {
  override name = 'WaitingForHistory';

  constructor(
    /** about how many more evaluations until the history is complete */
    readonly evaluations: number,
  ) {
    super(`waiting for history (about ${evaluations} more evaluation${evaluations === 1 ? '' : 's'})`);
  }
}
