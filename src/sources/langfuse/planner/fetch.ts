// The planner's requests: spend of one filter set over a stretch, in minute or hour buckets (or
// as one exact range), split by several groupBy fields at once, each row added to the groups of
// every dimension they make up (each field's, each pair's). Time series are paged: v2 returns at
// most `row_limit` rows and keeps the oldest, so a full page is cut before its last bucket and the
// rest asked for again from there.
import type { AlertFilters, GroupByField } from '../../../config/schema.js';
import { pairKey } from '../../../core/query.js';
import { LangfuseError, type LangfuseClient, type MetricsApiVersion, type MetricsQuery, type MetricsRow } from '../client.js';
import { COST_COLUMN, dimensionFor, groupValue, langfuseFilters, parseCost } from '../spend-source.js';
import { dimensionFields, type Dimension } from './keys.js';
import type { GroupKey, Groups } from './groups.js';
import { floorTo, HOUR } from './time.js';

/** The most rows v2 returns for one query. */
export const ROW_LIMIT = 1000;
const COUNT_COLUMN = 'count_count';

export type Granularity = 'minute' | 'hour';

export interface SpendRequest {
  readonly filters: AlertFilters;
  /** the dimensions filled together, from the groupBy fields they are made of (`requestFields`); the total always comes along */
  readonly dims: readonly Exclude<Dimension, ''>[];
  /** [from, to) in ms */
  readonly from: number;
  readonly to: number;
  /** null: one exact range, no time dimension */
  readonly granularity: Granularity | null;
}

export interface Bucket {
  /** ms: the bucket's start (the range's start for an exact range) */
  readonly start: number;
  /** Langfuse's observation count */
  count: number;
  /** per dimension ('' the total), spend per group value; a group is present when it had rows */
  readonly groups: Map<Dimension, Groups>;
}

/** The evaluation has sent all the requests the budget allows it: the rest waits for the next one. */
export class AllowanceSpent extends Error {
  override name = 'AllowanceSpent';

  constructor(allowance: number) {
    super(`the ${allowance} request(s) this evaluation may send are spent`);
  }
}

/**
 * Sends one request at a time, no more than `allowance` in all (AllowanceSpent after that), and
 * stops everything once Langfuse says "rate limited": every later request of the evaluation fails
 * with that error instead of being sent.
 */
export class RequestGate {
  sent = 0;
  rateLimited: LangfuseError | null = null;

  constructor(
    private readonly client: LangfuseClient,
    private readonly signal?: AbortSignal,
    readonly allowance = Infinity,
  ) {}

  async metrics(build: (version: MetricsApiVersion) => MetricsQuery): Promise<{ rows: MetricsRow[]; version: MetricsApiVersion }> {
    if (this.rateLimited) throw this.rateLimited;
    if (this.sent >= this.allowance) throw new AllowanceSpent(this.allowance);
    this.sent += 1;
    try {
      return await this.client.metrics(build, this.signal);
    } catch (error) {
      if (error instanceof LangfuseError && error.kind === 'rate-limited') this.rateLimited ??= error;
      throw error;
    }
  }
}

/**
 * Buckets with rows, ascending; an exact range gives one bucket (possibly without groups). `to`
 * is where they end: the request's end, or, when the allowance ran out between pages, the last
 * whole hour the pages fetched cover (the request's start: none).
 */
export async function fetchSpend(gate: RequestGate, request: SpendRequest): Promise<{ buckets: Bucket[]; version: MetricsApiVersion; to: number }> {
  const buckets: Bucket[] = [];
  let from = request.from;
  let answeredIn: MetricsApiVersion | null = null;
  for (;;) {
    let answer: { rows: MetricsRow[]; version: MetricsApiVersion };
    try {
      answer = await gate.metrics((v) => buildQuery(request, from, v));
    } catch (error) {
      if (!(error instanceof AllowanceSpent) || answeredIn === null) throw error;
      const to = Math.max(request.from, floorTo(from, HOUR));
      return { buckets: buckets.filter((bucket) => bucket.start < to), version: answeredIn, to };
    }
    const { rows, version } = answer;
    answeredIn = version;
    const page = bucketsOf(rows, request, from, version);
    if (request.granularity === null) {
      if (rows.length >= ROW_LIMIT) throw new LangfuseError(`more than ${ROW_LIMIT} groups in one query: too many to evaluate`, 'rejected');
      return { buckets: page, version, to: request.to };
    }
    if (rows.length < ROW_LIMIT) return { buckets: [...buckets, ...page], version, to: request.to };
    // A full page may have cut its last bucket short: keep the buckets before it, ask again from there.
    const last = page[page.length - 1]!;
    if (page.length < 2) {
      throw new LangfuseError(`more than ${ROW_LIMIT} groups in one ${request.granularity}: too many to evaluate`, 'rejected');
    }
    buckets.push(...page.slice(0, -1));
    from = last.start;
  }
}

function buildQuery(request: SpendRequest, from: number, version: MetricsApiVersion): MetricsQuery {
  const base: MetricsQuery = {
    view: 'observations',
    metrics: [
      { measure: 'totalCost', aggregation: 'sum' },
      { measure: 'count', aggregation: 'count' },
    ],
    dimensions: requestFields(request).map((field) => ({ field: dimensionFor(field, version) })),
    filters: langfuseFilters(request.filters, version),
    fromTimestamp: new Date(from).toISOString(),
    // Langfuse includes both ends; ranges here exclude their end.
    toTimestamp: new Date(request.to - 1).toISOString(),
    config: { row_limit: ROW_LIMIT },
  };
  if (request.granularity === null) return base;
  // Ordering by time turns off Langfuse's filling of empty buckets: only buckets with rows come back.
  return { ...base, timeDimension: { granularity: request.granularity }, orderBy: [{ field: 'time_dimension', direction: 'asc' }] };
}

/** The groupBy fields a request asks Langfuse for: those its dimensions are made of, each once. */
export function requestFields(request: Pick<SpendRequest, 'dims'>): GroupByField[] {
  return [...new Set(request.dims.flatMap(dimensionFields))];
}

function bucketsOf(rows: readonly MetricsRow[], request: SpendRequest, from: number, version: MetricsApiVersion): Bucket[] {
  const byStart = new Map<number, Bucket>();
  const keyOf = request.dims.map((dim) => [dim, rowKey(dim, version)] as const);
  const emptyGroups = (): Map<Dimension, Groups> => new Map([['', new Map()], ...request.dims.map((dim): [Dimension, Groups] => [dim, new Map()])]);
  for (const row of rows) {
    const start = request.granularity === null ? from : bucketStart(row['time_dimension']);
    let bucket = byStart.get(start);
    if (!bucket) byStart.set(start, (bucket = { start, count: 0, groups: emptyGroups() }));
    const count = parseCount(row[COUNT_COLUMN]);
    // Without dimensions Langfuse always answers one row, also for an empty range.
    if (request.dims.length === 0 && count === 0 && row[COST_COLUMN] === null) continue;
    const cost = parseCost(row[COST_COLUMN]);
    bucket.count += count;
    add(bucket.groups.get('')!, null, cost);
    for (const [dim, key] of keyOf) add(bucket.groups.get(dim)!, key(row), cost);
  }
  if (request.granularity === null && byStart.size === 0) byStart.set(from, { start: from, count: 0, groups: emptyGroups() });
  return [...byStart.values()].sort((a, b) => a.start - b.start);
}

/** A row's group in a dimension, in `version`'s columns: its field's value, or its pair's `pairKey` (a field paired with itself too). */
function rowKey(dim: Exclude<Dimension, ''>, version: MetricsApiVersion): (row: MetricsRow) => GroupKey {
  const columns = dim.split('>').map((field) => dimensionFor(field as GroupByField, version));
  if (columns.length === 1) return (row) => groupValue(row, columns[0]!);
  return (row) => pairKey(groupValue(row, columns[0]!), groupValue(row, columns[1]!));
}

function add(groups: Groups, key: string | null, cost: number): void {
  groups.set(key, (groups.get(key) ?? 0) + cost);
}

function bucketStart(value: unknown): number {
  const ms = typeof value === 'string' ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) throw new LangfuseError('Langfuse sent a time bucket that is not a date', 'bad-response');
  return ms;
}

function parseCount(value: unknown): number {
  if (value === null || value === undefined) return 0;
  const count = Number(value);
  if (!Number.isFinite(count)) throw new LangfuseError('Langfuse sent a count that is not a number', 'bad-response');
  return count;
}
