// The queries alerts read at one moment: what check sends for them, what the planner's cache
// keeps (its retention) and what the request estimates count. Apart from query.ts, which the
// evaluation imports, so that neither imports the other.
import type { AlertConfig } from './alert.js';
import { neededRanges } from './evaluate.js';
import { explainQueries, explainRanges } from './explain.js';
import { alertRangeQueries, type SpendQuery } from './query.js';

/**
 * Every query these alerts read at `now`, in order: each alert's current range, then its
 * baselines (per range, one query per metadata value of a metadata group), then the explain
 * dimensions read along with them.
 */
export function alertQueries(alerts: readonly AlertConfig[], now: Date, timezone: string): SpendQuery[] {
  return alerts.flatMap((alert) => {
    const ranges = neededRanges(alert, now, timezone);
    // the explain dimensions that ride along (core/explain.ts)
    const explained = explainRanges(alert, now, timezone);
    return [
      ...[ranges.current, ...ranges.baselines].flatMap((range) => alertRangeQueries(alert, range)),
      ...[explained.current, ...explained.baselines].flatMap((range) => explainQueries(alert, range)),
    ];
  });
}
