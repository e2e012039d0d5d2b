// What an evaluation would cost in requests, without sending any: the plan's rounds, each
// request presumed answered with spend in every minute it covers (an upper bound where Langfuse
// would have answered with gaps; exact for what the cache holds). Which requests a round plans
// depends on which hours the earlier rounds fetched and how finely, so the rounds are planned, not
// counted from a formula; only the coverage a request adds is presumed, no buckets are made up.
import { HistoryCache } from './cache.js';
import { commitToCache } from './commit.js';
import { scheduleCuts } from './cuts.js';
import { Evaluation, rangeKey, type FilterSet } from './evaluation.js';
import { nextRequests } from './execute.js';
import type { SpendRequest } from './fetch.js';
import type { Groups } from './groups.js';
import type { Dimension } from './keys.js';
import { LAST_ROUND } from './plan.js';
import { lookbacksAt, type PlannerSettings } from './settings.js';
import { floorTo, HOUR, MINUTE } from './time.js';

/** The requests executing the evaluation would send with this allowance. */
export function countRequests(evaluation: Evaluation, allowance: number): number {
  let count = 0;
  for (let round = 1; round <= LAST_ROUND; round++) {
    const requests = nextRequests(evaluation, round, allowance - count);
    count += requests.length;
    for (const planned of requests) if ('set' in planned) presumeAnswered(planned.set, planned.request);
  }
  return count;
}

/** Records the request as answered with some spend, in one group per dimension, in every minute it covers. */
function presumeAnswered(set: FilterSet, request: SpendRequest): void {
  set.views.clear();
  const dims: Dimension[] = ['', ...request.dims];
  const someSpend = new Map(dims.map((dim): [Dimension, Groups] => [dim, new Map([[null, 0]])]));
  if (request.granularity === null) {
    set.exact.set(rangeKey(request.from, request.to), someSpend);
    return;
  }
  const covered = new Set(dims);
  for (let hour = request.from; hour < request.to; hour += HOUR) {
    const previous = set.fetched.get(hour);
    if (previous?.granularity === 'minute' && request.granularity === 'hour') continue;
    const end = Math.min(HOUR, request.to - hour);
    // Langfuse's count for a bucket is its observations: a minute with spend has at least one.
    set.fetched.set(hour, { granularity: request.granularity, dims: covered, end, count: Math.ceil(end / MINUTE), slices: [{ offset: 0, groups: someSpend }] });
  }
}

/** What a cold start costs: the first evaluation's requests, and the evaluations and requests until every alert is evaluated. */
export interface ColdStartCost {
  readonly firstEvaluation: number;
  /** null: never, the allowance is less than what every evaluation needs */
  readonly evaluations: number | null;
  readonly requests: number;
}

/** Simulated evaluations after which a cold start is taken never to complete. */
const MAX_COLD_EVALUATIONS = 500;

/**
 * The cold start of every retained query at `now` (on the minute, as evaluations run), simulated
 * on an empty cache: evaluations, each sending what `allowance` lets it, follow one another until
 * one is no longer capped, or one caches nothing new (then it never completes). Like
 * countRequests, it assumes spend in every minute, one group per dimension and one page per request.
 * A first evaluation whose edges are all on the hour (cold on the hour, or at the tick of a
 * schedule in whole hours) sends one hour-bucket request per filter set and the minute-level tail,
 * however sparse the spend: then the figure is exact while each takes one page (hours × groups
 * under 1,000 rows, as on the reference data: test/sources/langfuse/planner/one-filter-set.test.ts).
 * An edge inside a closed hour adds minute-level requests of a page each, and how many hours a
 * page holds depends on how many minutes hold spend, which only Langfuse knows: there the figure
 * is an upper bound.
 */
export function coldStartCost(settings: PlannerSettings, now: Date, allowance: number): ColdStartCost {
  const tick = new Date(floorTo(now.getTime(), MINUTE));
  const queries = settings.retention(tick);
  const sent: number[] = [];
  if (queries.length === 0) return { firstEvaluation: 0, evaluations: 0, requests: 0 };
  const cache = HistoryCache.inMemory();
  const context = {
    now: tick.getTime(),
    lagMarginMs: settings.lagMarginMs,
    cuts: scheduleCuts(settings.schedules, settings.timezone, tick.getTime()),
    lookbacks: lookbacksAt(settings, tick),
    cache,
    version: 'v2' as const,
  };
  for (;;) {
    const evaluation = new Evaluation(queries, context);
    const puts = cache.puts;
    sent.push(countRequests(evaluation, allowance));
    commitToCache(evaluation);
    const requests = sent.reduce((sum, n) => sum + n, 0);
    if (!evaluation.capped) return { firstEvaluation: sent[0]!, evaluations: sent.length, requests };
    if (cache.puts === puts || sent.length === MAX_COLD_EVALUATIONS) return { firstEvaluation: sent[0]!, evaluations: null, requests };
  }
}
