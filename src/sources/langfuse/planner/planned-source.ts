// The request planner: answers every query of an evaluation from as few Langfuse requests as
// possible, with numbers identical to one request per query (LangfuseSpendSource).
//
// - Queries with the same filters share requests. Their windows are cut locally from hourly
//   buckets; several groupBy fields come from one request (each row counts for every field).
// - Closed hours come from the history cache. Each evaluation fetches the hours still open (and
//   any not cached yet) in minute buckets, and caches each hour, once closed, cut at the minutes
//   future evaluations will need: where cron ticks and local midnights fall (see ./cuts.ts).
// - A window edge inside an hour (now − 24 h, yesterday at now's time, midnight in Asia/Kolkata)
//   comes from the cached cuts; failing that, from the hour's minute buckets, fetched once (with
//   the uncut hours after it, where later edges will fall) and cached; failing that (an edge
//   between minutes), from an exact-range request. A closed hour is thus fetched at most twice: in
//   hour buckets, then once in minute buckets when an edge first falls inside it.
// - `groupBy: userId` is a top-N Langfuse computes: one request per distinct query, as before.
// - Under a request budget an evaluation sends at most its allowance (see RequestBudget.burst):
//   what every alert needs now (top-N queries, the open hours) first, then history newest first.
//   A cold start thus fills the history over several evaluations; an alert whose ranges aren't
//   all known yet is answered with WaitingForHistory, the others are evaluated.
import { parseDuration } from '../../../config/duration.js';
import type { Config } from '../../../config/schema.js';
import { neededRanges } from '../../../core/evaluate.js';
import type { LangfuseClient, LangfuseError, MetricsApiVersion } from '../client.js';
import { costQuery, dimensionFor, readingFromRows } from '../spend-source.js';
import type { Logger } from '../../../log/logger.js';
import { alertQuery, WaitingForHistory, type SpendQuery, type SpendReading, type SpendResult, type SpendSource } from '../../../core/query.js';
import { mapLimit } from '../../../util/concurrency.js';
import { LangfusePausedError } from '../quota.js';
import { HistoryCache } from './cache.js';
import { scheduleCuts } from './cuts.js';
import { AllowanceSpent, fetchSpend, RequestGate, ROW_LIMIT, type Bucket, type SpendRequest } from './fetch.js';
import { addGroups, totalOf, type Groups } from './groups.js';
import { filterKey, type Dimension } from './keys.js';
import { floorTo, HOUR, MINUTE } from './time.js';
import { FetchedView, RecordView, type FetchedHour, type HourView } from './views.js';

/** The newest hours missing from the cache are fetched in minute buckets: 360 rows per group at most. */
const TAIL_HOURS = 6;
/** After this many rounds, whatever can't be cut is asked for exactly; the round after that is the last. */
const UPGRADE_ROUNDS = 2;
const LAST_ROUND = UPGRADE_ROUNDS + 1;

export interface PlannerOptions {
  readonly client: LangfuseClient;
  readonly config: Config;
  /** called once, before the first evaluation */
  readonly loadCache: () => Promise<HistoryCache>;
  /** ms: hours that ended at least this long ago are final and cached */
  readonly lagMarginMs: number;
  /** true: the cache is read, never written (`check --dry-run`) */
  readonly readOnly: boolean;
  readonly log: Logger;
  /** told about every request sent and every rate limit met */
  readonly onUsage?: (usage: EvaluationUsage) => Promise<void>;
  /** until when Langfuse asked not to be queried (a 429), as of `now`: nothing is sent before then */
  readonly pausedUntil?: (now: Date) => Promise<Date | null>;
  /** the most requests an evaluation at `now` may send; unlimited without it */
  readonly allowance?: (now: Date) => number;
  readonly concurrency?: number;
}

/** What one spendAll cost. */
export interface EvaluationUsage {
  /** the evaluation time: the latest end of its queries */
  readonly at: Date;
  /** Langfuse requests sent (pages included) */
  readonly requests: number;
  /** set when Langfuse answered 429: the rest of the evaluation sent nothing */
  readonly rateLimited: LangfuseError | null;
  /** what the evaluation may send; when it needed more, some alerts wait for their history */
  readonly allowance: number;
}

/** A part of a window that isn't whole hours: within one hour, or (a 1 ms edge joined to its neighbour) across two. */
interface Span {
  readonly from: number;
  readonly to: number;
}

interface Member {
  readonly index: number;
  readonly dim: Dimension;
  readonly from: number;
  readonly to: number;
  /** the whole hours inside the window, [wholeFrom, wholeTo) */
  wholeFrom: number;
  wholeTo: number;
  /** the rest, at most two spans (its edges) */
  readonly spans: Span[];
}

interface Task {
  readonly set: FilterSet | null;
  readonly request: SpendRequest;
  /** top-N queries: the result indices it answers */
  readonly topN?: { readonly query: SpendQuery; readonly indices: number[] };
}

/** The stand-in for what a capped evaluation couldn't answer; the count is filled in after it. */
const WAITING = new WaitingForHistory(1);

/** Where each configured alert's lookback begins, worked out once an hour (see PlannedSpendSource.configNeeds). */
interface ConfigNeeds {
  readonly hour: number;
  readonly needs: ReadonlyArray<{ readonly filters: string; readonly dim: Dimension; readonly from: number }>;
}

export class PlannedSpendSource implements SpendSource {
  private last: EvaluationUsage | null = null;
  private cache: Promise<HistoryCache> | null = null;
  private needs: ConfigNeeds | null = null;

  constructor(private readonly options: PlannerOptions) {}

  private history(): Promise<HistoryCache> {
    return (this.cache ??= this.options.loadCache());
  }

  /** What the latest spendAll cost; null before the first. */
  get lastUsage(): EvaluationUsage | null {
    return this.last;
  }

  async spendAll(queries: readonly SpendQuery[], signal?: AbortSignal): Promise<SpendResult[]> {
    if (queries.length === 0) return [];
    const cache = await this.history();
    const run = new Run(this.options, cache, queries, this.options.client.apiVersion, this.configNeeds(queries));
    const pausedUntil = await this.options.pausedUntil?.(new Date(run.now));
    if (pausedUntil) {
      const paused = new LangfusePausedError(pausedUntil);
      return queries.map((): SpendResult => ({ status: 'rejected', reason: paused }));
    }
    const allowance = this.allowance(run.now);
    const gate = new RequestGate(this.options.client, signal, allowance);
    let results = await run.execute(gate, this.options.concurrency ?? 4);
    run.commit();
    if (run.capped) {
      const waiting = new WaitingForHistory(await this.evaluationsLeft(queries, allowance));
      results = results.map((result) => (result.status === 'rejected' && result.reason === WAITING ? { status: 'rejected', reason: waiting } : result));
    }
    this.last = { at: new Date(run.now), requests: gate.sent, rateLimited: gate.rateLimited, allowance };
    if (!this.options.readOnly) {
      try {
        await cache.save();
      } catch (error) {
        // The numbers are right either way; a cache that can't be written only costs requests later.
        this.options.log.warn({ err: (error as Error).message }, `could not write the Langfuse history cache: ${(error as Error).message}`);
      }
    }
    await this.options.onUsage?.(this.last);
    return results;
  }

  /**
   * The requests spendAll(queries) would send now, with what the cache holds: exact for a warm
   * cache; for hours not cached yet it assumes they hold spend (an upper bound) and one page each;
   * never more than the allowance.
   */
  async estimate(queries: readonly SpendQuery[]): Promise<number> {
    if (queries.length === 0) return 0;
    const run = new Run(this.options, await this.history(), queries, this.options.client.apiVersion, this.configNeeds(queries));
    return run.simulate(this.allowance(run.now));
  }

  private allowance(now: number): number {
    return this.options.allowance?.(new Date(now)) ?? Infinity;
  }

  /**
   * After a capped evaluation: about how many more the history needs. Each sends its allowance,
   * of which what a warm evaluation sends (a request per filter set and top-N query) goes to the
   * open hours, the rest to history.
   */
  private async evaluationsLeft(queries: readonly SpendQuery[], allowance: number): Promise<number> {
    const run = new Run(this.options, await this.history(), queries, this.options.client.apiVersion, this.configNeeds(queries));
    const needed = run.simulate(Infinity);
    const warm = run.warmRequests;
    return Math.max(1, Math.ceil((needed - warm) / Math.max(1, allowance - warm)));
  }

  /**
   * Lookbacks only move forward, and by whole hours except where a calendar period begins at a
   * local midnight off the hour; reusing an hour's answer within that hour keeps at most an hour
   * more than needed, and saves working out windows for every alert at every evaluation.
   */
  private configNeeds(queries: readonly SpendQuery[]): ConfigNeeds {
    const now = new Date(Math.max(...queries.map((q) => q.to.getTime())));
    if (this.needs?.hour === floorTo(now.getTime(), HOUR)) return this.needs;
    return (this.needs = configNeedsAt(this.options.config, now));
  }
}

function configNeedsAt(config: Config, now: Date): ConfigNeeds {
  const needs = config.alerts.flatMap((alert) => {
    if (alert.groupBy === 'userId') return [];
    const ranges = neededRanges(alert, now, config.timezone);
    const from = Math.min(...[ranges.current, ...ranges.baselines].map((r) => r.from.getTime()));
    return [{ filters: filterKey(alert.filters ?? {}), dim: alert.groupBy ?? ('' as Dimension), from }];
  });
  return { hour: floorTo(now.getTime(), HOUR), needs };
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
 * The cold start of every alert at `now` (on the minute, as evaluations run), simulated on an
 * empty cache: evaluations, each sending what `allowance` lets it, follow one another until one
 * is no longer capped, or one caches nothing new (then it never completes). Like `estimate`, it
 * assumes spend in every minute, one group per field and one page per request. A first evaluation
 * whose edges are all on the hour (cold on the hour, or at the tick of a schedule in whole hours)
 * sends one hour-bucket request per filter set and the minute-level tail, however sparse the spend:
 * then the figure is exact while each takes one page (hours × groups under 1,000 rows, as on the
 * reference data: test/sources/langfuse/planner/one-filter-set.test.ts). An edge inside a closed hour adds minute-level requests of a page each,
 * and how many hours a page holds depends on how many minutes hold spend, which only Langfuse
 * knows: there the figure is an upper bound.
 */
export function coldStartCost(config: Config, now: Date, allowance: number): ColdStartCost {
  const tick = new Date(floorTo(now.getTime(), MINUTE));
  const queries = alertQueries(config.alerts, tick, config.timezone);
  const sent: number[] = [];
  if (queries.length === 0) return { firstEvaluation: 0, evaluations: 0, requests: 0 };
  const cache = HistoryCache.inMemory();
  const options = { config, lagMarginMs: parseDuration(config.langfuse.lagMargin) };
  const needs = configNeedsAt(config, tick);
  for (;;) {
    const run = new Run(options, cache, queries, 'v2', needs);
    const puts = cache.puts;
    sent.push(run.simulate(allowance));
    run.commit();
    const requests = sent.reduce((sum, n) => sum + n, 0);
    if (!run.capped) return { firstEvaluation: sent[0]!, evaluations: sent.length, requests };
    if (cache.puts === puts || sent.length === MAX_COLD_EVALUATIONS) return { firstEvaluation: sent[0]!, evaluations: null, requests };
  }
}

/** The queries `check` sends for these alerts at `now` (final checks of closed periods aside). */
export function alertQueries(alerts: Config['alerts'], now: Date, timezone: string): SpendQuery[] {
  return alerts.flatMap((alert) => {
    const ranges = neededRanges(alert, now, timezone);
    return [ranges.current, ...ranges.baselines].map((range) => alertQuery(alert, range));
  });
}

export function cacheEntryKey(version: MetricsApiVersion, dim: Dimension, filters: string): string {
  return `${version}|${dim}|${filters}`;
}

class FilterSet {
  readonly members: Member[] = [];
  /** per dimension, the first hour any alert or query of this set needs */
  readonly keepFrom = new Map<Dimension, number>();
  readonly fetched = new Map<number, FetchedHour>();
  readonly exact = new Map<string, Map<Dimension, Groups>>();
  /** per dimension and hour, what is known (null: nothing); cleared whenever a request adds to it */
  readonly views = new Map<Dimension, Map<number, HourView | null>>();
  error: unknown = null;

  constructor(
    readonly key: string,
    readonly filters: SpendQuery['filters'],
  ) {}

  private sortedDims: Dimension[] | null = null;

  need(dim: Dimension, from: number): void {
    const hour = floorTo(from, HOUR);
    this.keepFrom.set(dim, Math.min(this.keepFrom.get(dim) ?? hour, hour));
    this.sortedDims = null;
  }

  get dims(): Dimension[] {
    return (this.sortedDims ??= [...this.keepFrom.keys()].sort());
  }

  /** The dimensions some alert needs at `hour`. */
  dimsAt(hour: number): Dimension[] {
    return this.dims.filter((dim) => this.keepFrom.get(dim)! <= hour);
  }
}

class Run {
  readonly now: number;
  private readonly lastHour: number;
  private readonly tailFrom: number;
  private readonly closedBefore: number;
  private readonly cuts: readonly number[];
  private readonly sets = new Map<string, FilterSet>();
  private readonly topN = new Map<string, { query: SpendQuery; indices: number[] }>();
  private readonly results: Array<SpendResult | undefined>;
  /** per cache entry, the first hour a configured alert needs */
  private readonly configNeeds = new Map<string, number>();
  /** the API version requests were answered in, when it differs from the one planned with */
  private switchedTo: MetricsApiVersion | null = null;
  /** the allowance left some request unsent: what it would have answered waits for a later evaluation */
  capped = false;

  constructor(
    private readonly options: Pick<PlannerOptions, 'config' | 'lagMarginMs'>,
    private readonly cache: HistoryCache,
    private readonly queries: readonly SpendQuery[],
    private readonly version: MetricsApiVersion,
    private readonly needs: ConfigNeeds,
  ) {
    // Every evaluation asks for its current windows, which end at `now`; nothing asks beyond it.
    this.now = Math.max(...queries.map((q) => q.to.getTime()));
    this.lastHour = floorTo(this.now - 1, HOUR);
    this.closedBefore = this.now - options.lagMarginMs;
    // Hours not closed yet are never cached, so they are always among the newest fetched.
    this.tailFrom = Math.min(this.lastHour - (TAIL_HOURS - 1) * HOUR, floorTo(this.closedBefore, HOUR));
    this.cuts = scheduleCuts(options.config, this.now);
    this.results = new Array<SpendResult | undefined>(queries.length);
    this.collect();
  }

  private collect(): void {
    this.queries.forEach((query, index) => {
      const key = filterKey(query.filters);
      if (query.groupBy === 'userId') {
        const id = JSON.stringify([key, query.from.getTime(), query.to.getTime(), query.top ?? null]);
        const entry = this.topN.get(id) ?? { query, indices: [] };
        entry.indices.push(index);
        this.topN.set(id, entry);
        return;
      }
      const set = this.set(key, query.filters);
      const dim: Dimension = query.groupBy ?? '';
      const from = query.from.getTime();
      const to = query.to.getTime();
      if (from < to) set.need(dim, from);
      set.members.push(member(index, dim, from, to));
    });
    // Alerts not due now still shape what the shared requests carry and what the cache keeps.
    for (const { filters, dim, from } of this.needs.needs) {
      const entry = cacheEntryKey(this.version, dim, filters);
      this.configNeeds.set(entry, Math.min(this.configNeeds.get(entry) ?? Infinity, floorTo(from, HOUR)));
      this.sets.get(filters)?.need(dim, from);
    }
  }

  private set(key: string, filters: SpendQuery['filters']): FilterSet {
    let set = this.sets.get(key);
    if (!set) this.sets.set(key, (set = new FilterSet(key, filters)));
    return set;
  }

  async execute(gate: RequestGate, concurrency: number): Promise<SpendResult[]> {
    for (let round = 1; round <= LAST_ROUND; round++) {
      const tasks = this.within(gate.allowance - gate.sent, this.tasks(round));
      if (tasks.length === 0) break;
      await mapLimit(tasks, concurrency, (task) => this.perform(gate, task));
    }
    for (const set of this.sets.values()) this.answer(set);
    for (const { indices } of this.topN.values()) {
      for (const index of indices) this.results[index] ??= { status: 'rejected', reason: WAITING };
    }
    return this.results.map((result) => result!);
  }

  /**
   * Counts the requests execute would send with this allowance, treating every uncached hour as
   * holding spend (one page per request).
   */
  simulate(allowance: number): number {
    let count = 0;
    for (let round = 1; round <= LAST_ROUND; round++) {
      const tasks = this.within(allowance - count, this.tasks(round));
      count += tasks.length;
      for (const task of tasks) if (task.set) this.ingest(task.set, task.request, placeholderBuckets(task.request));
    }
    return count;
  }

  /** What a warm evaluation of these queries sends: one request per filter set and per top-N query. */
  get warmRequests(): number {
    return this.sets.size + this.topN.size;
  }

  /** The round's requests, most needed first: top-N queries, then the newest hours (the open ones first). */
  private tasks(round: number): Task[] {
    const topN: Task[] =
      round === 1
        ? [...this.topN.values()].map((entry) => ({
            set: null,
            request: { filters: entry.query.filters, fields: ['userId'], from: 0, to: 0, granularity: null },
            topN: entry,
          }))
        : [];
    return [...topN, ...this.plan(round).sort((a, b) => b.request.to - a.request.to || b.request.from - a.request.from)];
  }

  /** The first `capacity` tasks; the run is capped when that leaves some out. */
  private within(capacity: number, tasks: Task[]): Task[] {
    if (tasks.length <= capacity) return tasks;
    this.capped = true;
    return tasks.slice(0, Math.max(0, capacity));
  }

  private async perform(gate: RequestGate, task: Task): Promise<void> {
    if (task.topN) {
      const { query, indices } = task.topN;
      let result: SpendResult;
      try {
        const { rows, version } = await gate.metrics((v) => costQuery(query, v));
        result = { status: 'fulfilled', value: readingFromRows(rows, dimensionFor('userId', version)) };
      } catch (reason) {
        if (reason instanceof AllowanceSpent) this.capped = true;
        result = { status: 'rejected', reason: reason instanceof AllowanceSpent ? WAITING : reason };
      }
      for (const index of indices) this.results[index] = result;
      return;
    }
    const set = task.set!;
    if (set.error !== null) return;
    try {
      const { buckets, version, to } = await fetchSpend(gate, task.request);
      if (version !== this.version) this.switchedTo = version;
      if (to < task.request.to) this.capped = true;
      if (to > task.request.from) this.ingest(set, { ...task.request, to }, buckets);
    } catch (error) {
      if (error instanceof AllowanceSpent) this.capped = true;
      else set.error ??= error;
    }
  }

  private ingest(set: FilterSet, request: SpendRequest, buckets: readonly Bucket[]): void {
    set.views.clear();
    if (request.granularity === null) {
      set.exact.set(rangeKey(request.from, request.to), buckets[0]?.groups ?? new Map());
      return;
    }
    const dims = new Set<Dimension>(['', ...request.fields]);
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

  private view(set: FilterSet, dim: Dimension, hour: number): HourView | undefined {
    let views = set.views.get(dim);
    if (!views) set.views.set(dim, (views = new Map()));
    let view = views.get(hour);
    if (view === undefined) {
      view = this.lookUp(set, dim, hour) ?? null;
      views.set(hour, view);
    }
    return view ?? undefined;
  }

  private lookUp(set: FilterSet, dim: Dimension, hour: number): HourView | undefined {
    const fetched = set.fetched.get(hour);
    if (fetched?.dims.has(dim)) return new FetchedView(fetched, dim);
    if (hour + HOUR > this.closedBefore) return undefined;
    const record = this.cache.get(cacheEntryKey(this.version, dim, set.key), hour);
    return record ? new RecordView(record) : undefined;
  }

  /** The requests of one round: what is missing, and what the known hours can't cut. */
  private plan(round: number): Task[] {
    const tasks: Task[] = [];
    for (const set of this.sets.values()) {
      if (set.error !== null) continue;
      const upgrades = new Map<number, boolean>();
      const exact = new Map<string, { from: number; to: number; fields: Set<Dimension> }>();
      for (const member of set.members) {
        for (let i = 0; i < member.spans.length; i++) {
          const span = member.spans[i]!;
          const hour = floorTo(span.from, HOUR);
          const view = span.to - hour > HOUR ? null : this.view(set, member.dim, hour);
          if (view === undefined || view?.empty || (view && view.cuttable(span.from - hour) && view.cuttable(span.to - hour))) continue;
          if (set.exact.get(rangeKey(span.from, span.to))?.has(member.dim)) continue;
          const edges = view ? [span.from - hour, span.to - hour].filter((offset) => !view.cuttable(offset)) : [];
          if (view && round <= UPGRADE_ROUNDS && edges.every((offset) => offset % MINUTE === 0)) {
            // Hours cut at the usual offsets serve every later evaluation too: fetch the next ones along.
            const usual = edges.every((offset) => this.cuts.includes(offset));
            upgrades.set(hour, (upgrades.get(hour) ?? true) && usual);
            continue;
          }
          // Langfuse refuses a range whose two inclusive ends coincide: a 1 ms edge goes with its neighbour.
          const { from, to } = span.to - span.from === 1 ? joinNeighbour(member, i) : span;
          const entry = exact.get(rangeKey(from, to)) ?? { from, to, fields: new Set<Dimension>() };
          entry.fields.add(member.dim);
          exact.set(rangeKey(from, to), entry);
        }
      }
      // Upgrades: edges fall inside hours known only in hour buckets. Each such hour is fetched in
      // minute buckets with every uncut hour after it up to the tail, a page per request: edges
      // move forward with time, so after one round of upgrades none finds an uncut hour.
      const claimed = new Set<number>();
      const starts = [...upgrades.keys()].sort((a, b) => a - b);
      for (const start of starts) {
        const extend = upgrades.get(start)!;
        for (let hour: number | undefined = start; hour !== undefined && !claimed.has(hour); ) {
          const hours = this.upgradeWindow(set, hour, extend, claimed);
          for (const h of hours) claimed.add(h);
          tasks.push(this.task(set, hours[0]!, hours[hours.length - 1]! + HOUR, 'minute', set.dimsAt(hour)));
          hour = extend ? this.nextUncut(set, hours[hours.length - 1]! + HOUR, claimed) : undefined;
        }
      }
      // No request re-reads closed hours the cache holds just to cut them finer: an hour is fetched
      // in minutes when it is still open (the tail) or when an edge falls inside it (above), and
      // is cached cut at the usual offsets either way; nothing else is asked twice.
      tasks.push(...this.missing(set, claimed));
      for (const { from, to, fields } of exact.values()) tasks.push(this.task(set, from, to, null, [...fields]));
    }
    return tasks;
  }

  /** The first closed hour from `from` on, before the tail, that isn't cut at the usual offsets yet. */
  private nextUncut(set: FilterSet, from: number, claimed: ReadonlySet<number>): number | undefined {
    for (let hour = from; hour < this.tailFrom; hour += HOUR) {
      if (!claimed.has(hour) && this.cutState(set, set.dimsAt(hour), hour) === 'uncut') return hour;
    }
    return undefined;
  }

  /** `start` and, for the usual cuts, the hours after it that aren't cut there yet, up to a page of rows. */
  private upgradeWindow(set: FilterSet, start: number, extend: boolean, claimed: ReadonlySet<number>): number[] {
    const dims = set.dimsAt(start);
    const hours = [start];
    let rows = this.minuteRows(set, dims, start);
    for (let hour = start + HOUR; extend && hour < this.tailFrom && hour + HOUR <= this.closedBefore; hour += HOUR) {
      if (claimed.has(hour) || set.dimsAt(hour).length !== dims.length || this.cutState(set, dims, hour) === 'cut') break;
      rows += this.minuteRows(set, dims, hour);
      if (rows > ROW_LIMIT) break;
      hours.push(hour);
    }
    return hours;
  }

  /** Whether the hour is known, for every dimension, at the usual cuts ('empty': without rows, nothing to cut). */
  private cutState(set: FilterSet, dims: readonly Dimension[], hour: number): 'uncut' | 'cut' | 'empty' {
    let empty = true;
    for (const dim of dims) {
      const view = this.view(set, dim, hour);
      if (view === undefined) return 'uncut';
      if (view.empty) continue;
      empty = false;
      const cut = view instanceof RecordView ? view.cutAtAll(this.cuts) : (view as FetchedView).hour.granularity === 'minute';
      if (!cut) return 'uncut';
    }
    return empty ? 'empty' : 'cut';
  }

  /** Rows a minute-level request of the hour may return: no more than its observations, nor 60 per group combination. */
  private minuteRows(set: FilterSet, dims: readonly Dimension[], hour: number): number {
    const combinations = dims.reduce((product, dim) => product * Math.max(1, this.cache.maxGroups(cacheEntryKey(this.version, dim, set.key))), 1);
    const counts = dims.map((dim) => this.view(set, dim, hour)?.count).filter((count): count is number => count !== undefined);
    return Math.min(60 * combinations, ...counts);
  }

  /**
   * Hours some dimension lacks: the newest in minute buckets (one request), older ones in hour
   * buckets, asking the older hours for the newer hours' dimensions too wherever one request then
   * takes fewer pages than two (a cold start's whole history is then one request).
   */
  private missing(set: FilterSet, claimed: ReadonlySet<number>): Task[] {
    const first = Math.min(...set.keepFrom.values());
    const runs: Array<{ from: number; to: number; dims: Dimension[]; minute: boolean }> = [];
    for (let hour = first; hour <= this.lastHour; hour += HOUR) {
      const dims = set.dimsAt(hour);
      if (claimed.has(hour) || dims.every((dim) => this.view(set, dim, hour) !== undefined)) continue;
      const minute = hour >= this.tailFrom;
      const run = runs[runs.length - 1];
      if (run && run.to === hour && run.minute === minute && (minute || run.dims.join() === dims.join())) run.to = hour + HOUR;
      else if (run && run.to === hour && !run.minute && !minute && this.mergeable(set, run, { from: hour, to: hour + HOUR, dims })) {
        // dimensions only grow with time: the newer hours' include the older ones'
        runs[runs.length - 1] = { ...run, to: hour + HOUR, dims };
      } else runs.push({ from: hour, to: hour + HOUR, dims, minute });
    }
    return runs.flatMap((run) =>
      run.minute ? [this.task(set, run.from, Math.min(run.to, this.now), 'minute', set.dims)] : this.hourChunks(set, run.from, run.to, run.dims),
    );
  }

  /** Whether `older` and `newer` (adjacent hour runs) take fewer pages as one request with `newer`'s dimensions than apart. */
  private mergeable(set: FilterSet, older: { from: number; to: number; dims: Dimension[] }, newer: { from: number; to: number; dims: Dimension[] }): boolean {
    const pages = (from: number, to: number, dims: readonly Dimension[]): number => Math.ceil((to - from) / this.pageSpan(set, dims));
    return pages(older.from, newer.to, newer.dims) <= pages(older.from, older.to, older.dims) + pages(newer.from, newer.to, newer.dims) - 1;
  }

  /** ms of hour buckets that fit in a page: a row per hour and group combination, as many combinations as the cache has seen. */
  private pageSpan(set: FilterSet, dims: readonly Dimension[]): number {
    const combinations = dims.reduce((product, dim) => product * Math.max(1, this.cache.maxGroups(cacheEntryKey(this.version, dim, set.key))), 1);
    return Math.max(1, Math.floor(ROW_LIMIT / combinations)) * HOUR;
  }

  /** The stretch in requests of a page each, from its newest hours: those an allowance serves first. */
  private hourChunks(set: FilterSet, from: number, to: number, dims: readonly Dimension[]): Task[] {
    const span = this.pageSpan(set, dims);
    const tasks: Task[] = [];
    for (let end = to; end > from; end -= span) tasks.push(this.task(set, Math.max(from, end - span), end, 'hour', dims));
    return tasks;
  }

  private task(set: FilterSet, from: number, to: number, granularity: SpendRequest['granularity'], dims: readonly Dimension[]): Task {
    const fields = dims.filter((dim): dim is Exclude<Dimension, ''> => dim !== '');
    return { set, request: { filters: set.filters, fields, from, to, granularity } };
  }

  private answer(set: FilterSet): void {
    // Alerts often share a window (a warning and a critical one, one per channel): each is cut once.
    const answered = new Map<string, SpendResult>();
    for (const member of set.members) {
      const id = `${member.dim}|${member.from}|${member.to}`;
      let result = answered.get(id);
      if (!result) answered.set(id, (result = this.reading(set, member)));
      this.results[member.index] = result;
    }
  }

  private reading(set: FilterSet, member: Member): SpendResult {
    if (set.error !== null) return { status: 'rejected', reason: set.error };
    const groups: Groups = new Map();
    const unknown = (from: number, to: number): SpendResult => ({
      status: 'rejected',
      reason: this.capped ? WAITING : new Error(`the planner has no spend for ${new Date(from).toISOString()}–${new Date(to).toISOString()}`),
    });
    for (let hour = member.wholeFrom; hour < member.wholeTo; hour += HOUR) {
      const view = this.view(set, member.dim, hour);
      if (!view) return unknown(hour, hour + HOUR);
      if (!view.empty) view.addRange(0, HOUR, groups);
    }
    for (const span of member.spans) {
      const hour = floorTo(span.from, HOUR);
      const view = span.to - hour > HOUR ? undefined : this.view(set, member.dim, hour);
      if (view?.empty) continue;
      if (view && view.cuttable(span.from - hour) && view.cuttable(span.to - hour)) {
        view.addRange(span.from - hour, span.to - hour, groups);
        continue;
      }
      const exact = set.exact.get(rangeKey(span.from, span.to))?.get(member.dim);
      if (!exact) return unknown(span.from, span.to);
      addGroups(groups, exact);
    }
    return { status: 'fulfilled', value: { total: totalOf(groups), byGroup: member.dim === '' ? null : groups } };
  }

  /** Closed hours fetched now go to the cache, cut where later evaluations will cut them. */
  commit(): void {
    const cache = this.cache;
    // Langfuse moved to another API version under us: the next evaluation starts that version's cache.
    if (this.switchedTo !== null) return;
    for (const set of this.sets.values()) {
      // Hours fetched in minute buckets are cut at the usual offsets and wherever this evaluation cut them.
      const offsets = new Map<number, Set<number>>();
      for (const member of set.members) {
        for (const span of member.spans) {
          for (const at of [span.from, span.to]) {
            const hour = floorTo(at, HOUR);
            if (at === hour || at % MINUTE !== 0 || set.fetched.get(hour)?.granularity !== 'minute') continue;
            offsets.set(hour, (offsets.get(hour) ?? new Set()).add(at - hour));
          }
        }
      }
      for (const [hour, fetched] of set.fetched) {
        if (hour + HOUR > this.closedBefore || fetched.end !== HOUR) continue;
        for (const dim of fetched.dims) {
          if (!set.keepFrom.has(dim)) continue;
          const key = cacheEntryKey(this.version, dim, set.key);
          const old = cache.get(key, hour);
          // Minute buckets can be cut anywhere an earlier record was; hour buckets add nothing to a record.
          if (fetched.granularity === 'hour' && old) continue;
          const cuts = fetched.granularity === 'hour' ? [0] : sortedUnion([0, ...this.cuts], offsets.get(hour) ?? [], old?.cuts ?? []);
          cache.put(key, hour, new FetchedView(fetched, dim).toRecord(cuts));
        }
      }
    }
    cache.prune(this.keepFrom());
  }

  /** Per cache entry, the first hour any configured alert (or this evaluation) still needs. */
  private keepFrom(): Map<string, number> {
    const keep = new Map(this.configNeeds);
    for (const set of this.sets.values()) {
      for (const [dim, hour] of set.keepFrom) {
        const key = cacheEntryKey(this.version, dim, set.key);
        keep.set(key, Math.min(keep.get(key) ?? hour, hour));
      }
    }
    return keep;
  }
}

/** The window [from, to) as whole hours and the spans at its edges. */
function member(index: number, dim: Dimension, from: number, to: number): Member {
  const spans: Span[] = [];
  if (from >= to) return { index, dim, from, to, wholeFrom: from, wholeTo: from, spans };
  const first = floorTo(from, HOUR);
  const last = floorTo(to - 1, HOUR);
  if (first === last && (from !== first || to !== first + HOUR)) {
    spans.push({ from, to });
    return { index, dim, from, to, wholeFrom: from, wholeTo: from, spans };
  }
  const wholeFrom = from === first ? first : first + HOUR;
  const wholeTo = floorTo(to, HOUR);
  if (from !== wholeFrom) spans.push({ from, to: wholeFrom });
  if (to !== wholeTo) spans.push({ from: wholeTo, to });
  return { index, dim, from, to, wholeFrom, wholeTo, spans };
}

/**
 * Joins the 1 ms span at `index` with what lies next to it in the window: the adjacent whole hour
 * or, without one, the other edge span. Returns the joined span.
 */
function joinNeighbour(member: Member, index: number): Span {
  const span = member.spans[index]!;
  const other = member.spans[1 - index];
  let joined: Span;
  if (span.to === member.wholeFrom && member.wholeFrom < member.wholeTo) {
    joined = { from: span.from, to: (member.wholeFrom += HOUR) };
  } else if (span.from === member.wholeTo && member.wholeFrom < member.wholeTo) {
    joined = { from: (member.wholeTo -= HOUR), to: span.to };
  } else if (other) {
    joined = { from: Math.min(span.from, other.from), to: Math.max(span.to, other.to) };
    member.spans.splice(0, 2, joined);
    return joined;
  } else {
    return span;
  }
  member.spans[index] = joined;
  return joined;
}

function sortedUnion(...lists: ReadonlyArray<Iterable<number>>): number[] {
  return [...new Set(lists.flatMap((list) => [...list]))].sort((a, b) => a - b);
}

function rangeKey(from: number, to: number): string {
  return `${from}|${to}`;
}

/** For estimates: every hour of the request holds spend in every minute bucket. */
function placeholderBuckets(request: SpendRequest): Bucket[] {
  const groups = new Map<Dimension, Groups>([['', new Map([[null, 0]])], ...request.fields.map((f): [Dimension, Groups] => [f, new Map([[null, 0]])])]);
  if (request.granularity === null) return [{ start: request.from, count: 1, groups }];
  const step = request.granularity === 'minute' ? MINUTE : HOUR;
  const buckets: Bucket[] = [];
  // an hour bucket counts the observations of its 60 minute buckets
  for (let start = request.from; start < request.to; start += step) buckets.push({ start, count: step / MINUTE, groups });
  return buckets;
}
