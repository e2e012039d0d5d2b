// Executing: round after round, the planned requests are sent through the request gate
// (the evaluation's allowance, a stop at Langfuse's first 429) and their answers are added to the
// evaluation, for the next round's planning and for the answers.
import { mapLimit } from '../../../util/concurrency.js';
import { costQuery, readingFromRows } from '../spend-source.js';
import { AllowanceSpent, fetchSpend, type Bucket, type RequestGate, type SpendRequest } from './fetch.js';
import { rangeKey, WAITING, type Evaluation, type FilterSet, type TopNQuery } from './evaluation.js';
import type { Dimension } from './keys.js';
import { LAST_ROUND, planRequests, type PlannedRequest } from './plan.js';
import { floorTo, HOUR } from './time.js';

export async function executeEvaluation(evaluation: Evaluation, gate: RequestGate, concurrency: number): Promise<void> {
  for (let round = 1; round <= LAST_ROUND; round++) {
    const requests = nextRequests(evaluation, round, gate.allowance - gate.sent);
    if (requests.length === 0) break;
    await mapLimit(requests, concurrency, (request) => send(evaluation, gate, request));
  }
}

/**
 * The round's plan, its joined windows taken on, cut to the first `capacity` requests; the
 * evaluation is capped when that leaves some out.
 */
export function nextRequests(evaluation: Evaluation, round: number, capacity: number): PlannedRequest[] {
  const { requests, joined } = planRequests(evaluation, round);
  for (const { set, position, window } of joined) set.windows[position] = window;
  if (requests.length <= capacity) return requests;
  evaluation.capped = true;
  return requests.slice(0, Math.max(0, capacity));
}

async function send(evaluation: Evaluation, gate: RequestGate, planned: PlannedRequest): Promise<void> {
  if ('topN' in planned) return sendTopN(evaluation, gate, planned.topN);
  const { set, request } = planned;
  if (set.error !== null) return;
  try {
    const { buckets, version, to } = await fetchSpend(gate, request);
    if (version !== evaluation.version) evaluation.switchedTo = version;
    if (to < request.to) evaluation.capped = true;
    if (to > request.from) recordAnswer(set, { ...request, to }, buckets);
  } catch (error) {
    if (error instanceof AllowanceSpent) evaluation.capped = true;
    else set.error ??= error;
  }
}

async function sendTopN(evaluation: Evaluation, gate: RequestGate, topN: TopNQuery): Promise<void> {
  try {
    const { rows, version } = await gate.metrics((v) => costQuery(topN.query, v));
    topN.result = { status: 'fulfilled', value: readingFromRows(rows, topN.query.shape, version) };
  } catch (reason) {
    if (reason instanceof AllowanceSpent) evaluation.capped = true;
    topN.result = { status: 'rejected', reason: reason instanceof AllowanceSpent ? WAITING : reason };
  }
}

/** Adds a request's buckets to what the filter set knows: an exact range, or the hours it covers. */
export function recordAnswer(set: FilterSet, request: SpendRequest, buckets: readonly Bucket[]): void {
  set.views.clear();
  if (request.granularity === null) {
    set.exact.set(rangeKey(request.from, request.to), buckets[0]?.groups ?? new Map());
    return;
  }
  const dims = new Set<Dimension>(['', ...request.dims]);
  for (let hour = request.from; hour < request.to; hour += HOUR) {
    const previous = set.fetched.get(hour);
    if (previous?.granularity === 'minute' && request.granularity === 'hour') continue;
    set.fetched.set(hour, { granularity: request.granularity, dims, end: Math.min(HOUR, request.to - hour), count: 0, slices: [] });
  }
  for (const bucket of buckets) {
    const hour = floorTo(bucket.start, HOUR);
    const fetched = set.fetched.get(hour)!;
    if (fetched.dims !== dims) continue;
    fetched.count += bucket.count;
    fetched.slices.push({ offset: bucket.start - hour, groups: bucket.groups });
  }
}
