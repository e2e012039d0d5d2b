// The hourly spend of one ranked value (a trace, a user) for `backtest`: Langfuse groups by such
// high-cardinality fields only as a top-N, never per hour, so each value is read on its own — its
// field filtered to it, no dimension, in hour buckets. Only hours with spend come back (ordering by
// time turns off Langfuse's filling of empty buckets).
import type { AlertFilters } from '../../core/alert.js';
import type { RankedField } from '../../core/query.js';
import { LangfuseError, type LangfuseClient } from './client.js';
import { COST_COLUMN, dimensionFor, langfuseFilters, parseCost } from './spend-source.js';

const HOUR = 3_600_000;
/** Langfuse answers at most this many rows a request: an hour bucket each. */
const HOURS_PER_REQUEST = 1000;

/** Per hour start (ms), the value's spend over [from, to), hour-aligned; hours without spend are absent. */
export async function readRankedHours(
  client: LangfuseClient,
  read: { readonly filters: AlertFilters; readonly by: RankedField; readonly value: string },
  from: number,
  to: number,
  signal?: AbortSignal,
): Promise<Map<number, number>> {
  const hours = new Map<number, number>();
  for (let start = from; start < to; start += HOURS_PER_REQUEST * HOUR) {
    const end = Math.min(to, start + HOURS_PER_REQUEST * HOUR);
    const { rows } = await client.metrics(
      (version) => ({
        view: 'observations',
        metrics: [{ measure: 'totalCost', aggregation: 'sum' }],
        dimensions: [],
        filters: [
          ...langfuseFilters(read.filters, version),
          { column: dimensionFor(read.by, version), type: 'stringOptions', operator: 'any of', value: [read.value] },
        ],
        fromTimestamp: new Date(start).toISOString(),
        // Langfuse includes both ends; the range excludes its end.
        toTimestamp: new Date(end - 1).toISOString(),
        timeDimension: { granularity: 'hour' },
        orderBy: [{ field: 'time_dimension', direction: 'asc' }],
        config: { row_limit: HOURS_PER_REQUEST },
      }),
      signal,
    );
    for (const row of rows) {
      const hour = Date.parse(String(row['time_dimension']));
      if (Number.isNaN(hour)) throw new LangfuseError('Langfuse sent a time bucket that is not a date', 'bad-response');
      const cost = parseCost(row[COST_COLUMN]);
      if (cost !== 0) hours.set(hour, (hours.get(hour) ?? 0) + cost);
    }
  }
  return hours;
}

/** How many requests readRankedHours sends for one value over [from, to). */
export function rankedHoursRequests(from: number, to: number): number {
  return Math.max(0, Math.ceil((to - from) / (HOURS_PER_REQUEST * HOUR)));
}
