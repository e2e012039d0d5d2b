// What the evaluation core needs from Langfuse, and nothing more: the cost over one time range,
// optionally split by one field. A planner can later answer many of these from fewer requests.
import type { AlertConfig, AlertFilters, GroupByField } from './alert.js';

export interface TimeRange {
  /** inclusive */
  readonly from: Date;
  /** exclusive */
  readonly to: Date;
}

export interface SpendQuery extends TimeRange {
  readonly filters: AlertFilters;
  readonly groupBy?: GroupByField;
  /** groupBy userId only: the number of top spenders to return */
  readonly top?: number;
}

/** What an alert reads over one of its ranges. */
export function alertQuery(alert: AlertConfig, range: TimeRange): SpendQuery {
  return { filters: alert.filters ?? {}, groupBy: alert.groupBy, top: alert.top, from: range.from, to: range.to };
}

export interface SpendReading {
  /** USD over the whole range (all groups together) */
  readonly total: number;
  /** USD per group value when the query had a groupBy; `null` is the group Langfuse reports as null */
  readonly byGroup: ReadonlyMap<string | null, number> | null;
}

export type SpendResult = PromiseSettledResult<SpendReading>;

/**
 * Answers every query of one evaluation at once, so an implementation may share requests
 * between them (one per filter set, cut locally) and cache what can't change any more.
 * The results are in the order of the queries; one failing doesn't fail the others.
 */
export interface SpendSource {
  spendAll(queries: readonly SpendQuery[], signal?: AbortSignal): Promise<SpendResult[]>;
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
