// Assembling answers, pure: each query's reading, cut from what the evaluation knows of its hours
// (cached records, fetched buckets, exact ranges). A query whose hours aren't all known fails, or,
// when the allowance left requests unsent, waits for its history.
import type { SpendResult } from '../../../core/query.js';
import { rangeKey, WAITING, type Evaluation, type FilterSet, type QueryWindow } from './evaluation.js';
import { addGroups, totalOf, type Groups } from './groups.js';
import { floorTo, HOUR } from './time.js';

/** The results in the order of the evaluation's queries. */
export function assembleAnswers(evaluation: Evaluation): SpendResult[] {
  const results = new Array<SpendResult>(evaluation.queryCount);
  for (const set of evaluation.sets.values()) {
    // Alerts often share a window (a warning and a critical one, one per channel): each is cut once.
    const answered = new Map<string, SpendResult>();
    for (const window of set.windows) {
      const id = `${window.dim}|${window.from}|${window.to}`;
      let result = answered.get(id);
      if (!result) answered.set(id, (result = reading(evaluation, set, window)));
      results[window.index] = result;
    }
  }
  for (const { indices, result } of evaluation.topN.values()) {
    for (const index of indices) results[index] = result ?? { status: 'rejected', reason: WAITING };
  }
  return results;
}

function reading(evaluation: Evaluation, set: FilterSet, window: QueryWindow): SpendResult {
  if (set.error !== null) return { status: 'rejected', reason: set.error };
  const groups: Groups = new Map();
  const unknown = (from: number, to: number): SpendResult => ({
    status: 'rejected',
    reason: evaluation.capped ? WAITING : new Error(`the planner has no spend for ${new Date(from).toISOString()}–${new Date(to).toISOString()}`),
  });
  for (let hour = window.wholeFrom; hour < window.wholeTo; hour += HOUR) {
    const view = evaluation.view(set, window.dim, hour);
    if (!view) return unknown(hour, hour + HOUR);
    if (!view.empty) view.addRange(0, HOUR, groups);
  }
  for (const span of window.spans) {
    const hour = floorTo(span.from, HOUR);
    const view = span.to - hour > HOUR ? undefined : evaluation.view(set, window.dim, hour);
    if (view?.empty) continue;
    if (view && view.cuttable(span.from - hour) && view.cuttable(span.to - hour)) {
      view.addRange(span.from - hour, span.to - hour, groups);
      continue;
    }
    const exact = set.exact.get(rangeKey(span.from, span.to))?.get(window.dim);
    if (!exact) return unknown(span.from, span.to);
    addGroups(groups, exact);
  }
  return { status: 'fulfilled', value: { total: totalOf(groups), byGroup: window.dim === '' ? null : groups } };
}
