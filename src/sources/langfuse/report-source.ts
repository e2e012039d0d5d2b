// The Langfuse requests of `spend-alerts report`'s own sections (its budgets are alert
// evaluations, read through the planner). Seven on a cold cache whatever the window:
//   1. cost per UTC hour over the window (≤ 745 buckets for a 31-day month: one page of 1,000),
//      which gives the total and the daily rows — Langfuse cuts the ends at the window's edges, so
//      partial first and last days are exact;
//   2. the previous span's total;
//   3.–7. cost (and tokens) by model, by trace name, by environment, the top traces and the top
//      users, each ranked by Langfuse (orderBy cost desc, row_limit = --top).
// Langfuse buckets by UTC hour, so in a zone whose midnight falls inside an hour (Asia/Kolkata)
// that hour's spend before the midnight is one more request, for each such midnight whose hour
// holds spend (see ReportRanges.offHourMidnights).
import type { GroupByField } from '../../core/alert.js';
import { midnightsToSplit, type ReportAnswers, type ReportRanges } from '../../core/report.js';
import type { TimeRange } from '../../core/query.js';
import type { LangfuseClient, MetricsApiVersion, MetricsQuery, MetricsRow } from './client.js';
import { COST_COLUMN, dimensionFor, groupValue, parseCost, parseTokens, TOKEN_MEASURES } from './spend-source.js';

/** One page holds every hour bucket of the longest window: a 31-day month with a DST change is 745, `30d` 721. */
const HOURLY_ROW_LIMIT = 1000;
const COST = { measure: 'totalCost', aggregation: 'sum' } as const;
const HOUR = 3_600_000;

/** Requests the report's own sections send at most: seven, plus one per off-hour midnight (whose hour may hold spend). */
export function reportRequestBound(ranges: ReportRanges): number {
  return 7 + ranges.offHourMidnights.length;
}

function base(range: TimeRange): Pick<MetricsQuery, 'view' | 'filters' | 'fromTimestamp' | 'toTimestamp'> {
  return {
    view: 'observations',
    filters: [],
    fromTimestamp: range.from.toISOString(),
    // Langfuse includes both ends; the report's ranges exclude their end.
    toTimestamp: new Date(range.to.getTime() - 1).toISOString(),
  };
}

function ranked(range: TimeRange, fields: readonly string[], top: number, extra: MetricsQuery['metrics'] = []): MetricsQuery {
  return {
    ...base(range),
    metrics: [COST, ...extra],
    dimensions: fields.map((field) => ({ field })),
    orderBy: [{ field: COST_COLUMN, direction: 'desc' }],
    config: { row_limit: top },
  };
}

export async function readReport(client: Pick<LangfuseClient, 'metrics'>, ranges: ReportRanges, top: number, signal?: AbortSignal): Promise<ReportAnswers> {
  const { current, previous } = ranges;
  const rows = async (build: (version: MetricsApiVersion) => MetricsQuery) => client.metrics(build, signal);
  const named = (field: GroupByField) => async () => {
    const { rows: answer, version } = await rows((v) => ranked(current, [dimensionFor(field, v)], top));
    return answer.map((row) => ({ name: groupValue(row, dimensionFor(field, version)), cost: parseCost(row[COST_COLUMN]) }));
  };
  const [hourly, previousTotal, byModel, byTraceName, byEnvironment, topTraces, topUsers] = await Promise.all([
    rows(() => ({ ...base(current), metrics: [COST], dimensions: [], timeDimension: { granularity: 'hour' }, config: { row_limit: HOURLY_ROW_LIMIT } })).then(({ rows: answer }) => hourlyCosts(answer)),
    rows(() => ({ ...base(previous), metrics: [COST], dimensions: [] })).then(({ rows: answer }) => answer.reduce((sum, row) => sum + parseCost(row[COST_COLUMN]), 0)),
    rows((v) => ranked(current, [dimensionFor('model', v)], top, TOKEN_MEASURES)).then(({ rows: answer, version }) =>
      answer.map((row) => ({
        model: groupValue(row, dimensionFor('model', version)),
        cost: parseCost(row[COST_COLUMN]),
        inputTokens: parseTokens(row['sum_inputTokens']),
        outputTokens: parseTokens(row['sum_outputTokens']),
      })),
    ),
    named('traceName')(),
    named('environment')(),
    rows((v) => ranked(current, ['traceId', dimensionFor('traceName', v), dimensionFor('userId', v)], top)).then(({ rows: answer, version }) =>
      answer.flatMap((row) => {
        const traceId = groupValue(row, 'traceId');
        return traceId === null
          ? []
          : [{ traceId, traceName: groupValue(row, dimensionFor('traceName', version)), userId: groupValue(row, dimensionFor('userId', version)), cost: parseCost(row[COST_COLUMN]) }];
      }),
    ),
    named('userId')(),
  ]);
  const beforeMidnight = new Map<number, number>();
  await Promise.all(
    midnightsToSplit(ranges, hourly).map(async (midnight) => {
      // the window may begin inside that hour too
      const range = { from: new Date(Math.max(Math.floor(midnight.getTime() / HOUR) * HOUR, current.from.getTime())), to: midnight };
      const { rows: answer } = await rows(() => ({ ...base(range), metrics: [COST], dimensions: [] }));
      beforeMidnight.set(midnight.getTime(), answer.reduce((sum, row) => sum + parseCost(row[COST_COLUMN]), 0));
    }),
  );
  return { hourly, beforeMidnight, previousTotal, byModel, byTraceName, byEnvironment, topTraces, topUsers };
}

/** Hour bucket start (ms) → cost; Langfuse's filler buckets (cost null) are $0. */
function hourlyCosts(rows: readonly MetricsRow[]): Map<number, number> {
  const hourly = new Map<number, number>();
  for (const row of rows) {
    const at = Date.parse(String(row['time_dimension']));
    if (Number.isNaN(at)) continue;
    hourly.set(at, (hourly.get(at) ?? 0) + parseCost(row[COST_COLUMN]));
  }
  return hourly;
}
