// `spend-alerts backtest`: the alerts replayed over the past days by the daemon's own evaluation
// (tick: the rule registry, the decisions and their dedup), `now` moved through time to the end of
// every hour in the configured zone (calendar periods end at those too), over an in-memory state
// and channels that only accept. Nothing is sent and no state is written.
//
// Requests: the history comes in once, in hour buckets, by one spendAll over the whole replayed
// range that fills the planner's history cache; every replayed instant's spendAll is then answered
// from the cache. Top-N reads (perTrace's traces, groupBy userId's users) can't be cut from hour
// buckets — Langfuse ranks such values only over a whole range — so they are ranked once over the
// whole range, each ranked value that could ever fire is read hourly on its own
// (../sources/langfuse/ranked-history.ts), and every instant's top-N is answered from those hours.
import type { Channel } from '../channels/channel.js';
import type { AlertConfig, Config } from '../config/schema.js';
import { alertQueries } from '../core/alert-queries.js';
import { neededRanges } from '../core/evaluate.js';
import type { Notification } from '../core/notification.js';
import { alertRangeQueries, type QueryShape, type SpendQuery, type SpendReading, type SpendResult, type SpendSource } from '../core/query.js';
import { wallClock } from '../core/time/zone.js';
import type { Logger } from '../log/logger.js';
import type { LangfuseClient } from '../sources/langfuse/client.js';
import { filterKey } from '../sources/langfuse/planner/keys.js';
import { rankedHoursRequests, readRankedHours } from '../sources/langfuse/ranked-history.js';
import { memoryStorage } from '../storage/memory.js';
import { StateStore } from '../storage/state-store.js';
import { describeError } from './requests.js';
import { tick, type CheckPolicy } from './worker.js';

const HOUR = 3_600_000;

/** One notification the replay would have sent, and the instant it was decided at. */
export interface BacktestNotification {
  readonly at: Date;
  readonly notification: Notification;
}

export interface BacktestResult {
  readonly notifications: readonly BacktestNotification[];
  /** what could not be read at the first instant that failed, where the replay stopped */
  readonly failures: readonly string[];
}

/**
 * What the replay reads: the instants, the history (every read from the first instant's earliest
 * range to the last instant) and the top-N reads ranked over that range.
 */
export interface BacktestPlan {
  readonly instants: readonly Date[];
  readonly history: readonly SpendQuery[];
  readonly ranked: readonly RankedRead[];
}

interface RankedRead {
  readonly query: SpendQuery & { readonly shape: Extract<QueryShape, { kind: 'topN' }> };
  /** a ranked value whose spend over the whole range is at most this never fires: not read hourly */
  readonly floor: number;
}

/**
 * The end of every hour over the `days` before `end` (itself a local hour's end, see lastHourEnd),
 * oldest first: in a zone half an hour off UTC, at half past.
 */
export function replayInstants(end: Date, days: number): Date[] {
  const instants: Date[] = [];
  for (let at = end.getTime() - days * 24 * HOUR + HOUR; at <= end.getTime(); at += HOUR) instants.push(new Date(at));
  return instants;
}

/** The last local hour's end before `latest` (the newest complete data). */
export function lastHourEnd(latest: Date, timezone: string): Date {
  const minutes = wallClock(latest, timezone).minute;
  return new Date(Math.floor((latest.getTime() - minutes * 60_000) / 60_000) * 60_000);
}

/**
 * What replaying `alerts` at `instants` reads. The history is everything the configured alerts read
 * at the first instant (the planner's retention: their contributors' dimensions too) on the filter
 * sets the replayed ones read, extended to the last instant: the planner serves each instant every
 * dimension all of them need there, so what the first read left out would come an hour at a time.
 */
export function planBacktest(alerts: readonly AlertConfig[], configured: readonly AlertConfig[], instants: readonly Date[], timezone: string): BacktestPlan {
  const to = instants.at(-1)!;
  const series = (queries: readonly SpendQuery[]): SpendQuery[] => queries.filter((query) => query.shape.kind !== 'topN');
  const replayedSets = new Set(series(alertQueries(alerts, instants[0]!, timezone)).map((query) => filterKey(query.filters)));
  const history = series(alertQueries(configured, instants[0]!, timezone))
    .filter((query) => replayedSets.has(filterKey(query.filters)))
    .map((query) => ({ ...query, to }));
  const ranked = new Map<string, RankedRead>();
  for (const alert of alerts) {
    const ranges = neededRanges(alert, instants[0]!, timezone);
    const from = Math.min(...[ranges.current, ...ranges.baselines].map((range) => range.from.getTime()));
    // hour-aligned, as the hourly reads the ranked values are answered from
    for (const query of alertRangeQueries(alert, { from: new Date(Math.floor(from / HOUR) * HOUR), to })) {
      if (query.shape.kind !== 'topN') continue;
      const whole = { ...query, shape: query.shape };
      const key = rankedKey(whole);
      const floor = Math.min(ranked.get(key)?.floor ?? Infinity, alert.perTrace?.threshold ?? 0);
      ranked.set(key, { query: whole, floor });
    }
  }
  return { instants, history, ranked: [...ranked.values()] };
}

/** An upper bound of the requests the replay sends, given what the planner says its history reads cost. */
export function backtestRequestBound(plan: BacktestPlan, historyRequests: number): number {
  const hourly = plan.ranked.reduce((sum, { query }) => sum + query.shape.n * rankedHoursRequests(query.from.getTime(), query.to.getTime()), 0);
  return historyRequests + hourly;
}

export interface BacktestDeps {
  readonly config: Config;
  readonly plan: BacktestPlan;
  readonly alerts: readonly AlertConfig[];
  /** the request planner, cutting hours closed at each instant (no lag margin: the data is complete) */
  readonly planner: SpendSource;
  /** the wall clock when the history is read: the request budget counts the requests then */
  readonly readAt: Date;
  readonly client: LangfuseClient;
  readonly policy: Partial<CheckPolicy>;
  readonly log: Logger;
  readonly redact: (text: string) => string;
  readonly onProgress?: (done: number, total: number) => void;
}

export async function runBacktest(deps: BacktestDeps): Promise<BacktestResult> {
  const { plan, config } = deps;
  const to = plan.instants.at(-1)!;
  // The history and the rankings at once (the planner shares requests between them), read as of
  // the wall clock: every hour up to the last instant is closed then and goes into the cache.
  const rankedQueries = plan.ranked.map((read) => read.query);
  const first = await deps.planner.spendAll([...plan.history, ...rankedQueries], undefined, deps.readAt);
  const refused = first.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (refused) return { notifications: [], failures: [deps.redact(describeError(refused.reason))] };
  const rankings = first.slice(plan.history.length).map((result) => (result as PromiseFulfilledResult<SpendReading>).value);

  const rankedHistory = new Map<string, RankedHistory>();
  for (const [index, { query, floor }] of plan.ranked.entries()) {
    const ranking = rankings[index]!;
    const hours = new Map<string, Map<number, number>>();
    for (const [value, spend] of ranking.byGroup ?? []) {
      // Langfuse filters on a value, never on its absence: spend without a user isn't replayed.
      if (value === null || spend <= floor) continue;
      hours.set(value, await readRankedHours(deps.client, { filters: query.filters, by: query.shape.by, value }, query.from.getTime(), to.getTime()));
    }
    rankedHistory.set(rankedKey(query), { hours, labels: ranking.labels });
  }

  // No contributors: each would cost requests per firing series and instant, and the replay counts notifications.
  const alerts = deps.alerts.map((alert): AlertConfig => ({ ...alert, explain: [] }));
  const replayConfig: Config = { ...config, alerts: config.alerts.map((alert) => alerts.find((a) => a.name === alert.name) ?? alert) };
  const store = new StateStore('backtest', { storage: memoryStorage() });
  const channels = new Map(Object.entries(config.channels).map(([name, channel]): [string, Channel] => [name, acceptingChannel(name, channel.type)]));
  const source = new ReplaySource(deps.planner, rankedHistory);
  // the replay's own log lines (one summary per instant) are for debugging only
  const quiet: Logger = { debug: deps.log.debug, info: deps.log.debug, warn: deps.log.debug, error: deps.log.debug };
  const notifications: BacktestNotification[] = [];
  const failures = new Set<string>();
  for (const [index, at] of plan.instants.entries()) {
    const report = await tick(
      {
        config: replayConfig,
        alerts,
        source,
        channels,
        store,
        langfuseUrl: config.langfuse.baseUrl,
        log: quiet,
        redact: deps.redact,
        policy: { ...deps.policy, lagMarginMs: 0, ignoreBackoff: true },
        clock: () => at,
      },
      at,
    );
    for (const failure of report.alertFailures) failures.add(`${failure.alert} at ${at.toISOString()}: ${failure.error}`);
    if (report.waiting) failures.add(`${report.waiting.alerts.join(', ')}: the history was not complete at ${at.toISOString()}`);
    // What couldn't be read at one hour would be asked for again at every later one: stop here.
    if (failures.size > 0) break;
    for (const { notification } of report.planned) if (notification.kind !== 'system') notifications.push({ at, notification });
    deps.onProgress?.(index + 1, plan.instants.length);
  }
  return { notifications, failures: [...failures] };
}

/** A channel that accepts everything and sends nothing. */
function acceptingChannel(name: string, type: string): Channel {
  return { name, type, batches: true, send: async () => {} };
}

interface RankedHistory {
  /** per ranked value read hourly, its spend per hour start */
  readonly hours: ReadonlyMap<string, ReadonlyMap<number, number>>;
  readonly labels: SpendReading['labels'];
}

function rankedKey(query: SpendQuery): string {
  return JSON.stringify([query.filters, query.shape]);
}

/**
 * The planner for every read but the top-N ones, which are answered from the ranked values' hours
 * that start within the range: the values of the range's top `n` with spend in it.
 */
class ReplaySource implements SpendSource {
  constructor(
    private readonly planner: SpendSource,
    private readonly ranked: ReadonlyMap<string, RankedHistory>,
  ) {}

  async spendAll(queries: readonly SpendQuery[], signal?: AbortSignal, at?: Date): Promise<SpendResult[]> {
    const planned = queries.filter((query) => query.shape.kind !== 'topN');
    const answers = await this.planner.spendAll(planned, signal, at);
    let next = 0;
    return queries.map((query): SpendResult => (query.shape.kind === 'topN' ? this.topN(query, query.shape.n) : answers[next++]!));
  }

  private topN(query: SpendQuery, n: number): SpendResult {
    const history = this.ranked.get(rankedKey(query));
    if (history === undefined) return { status: 'rejected', reason: new Error('backtest: a top-N read was not ranked before the replay') };
    const spent: Array<[string, number]> = [];
    for (const [value, hours] of history.hours) {
      let spend = 0;
      for (const [hour, cost] of hours) if (hour >= query.from.getTime() && hour < query.to.getTime()) spend += cost;
      if (spend > 0) spent.push([value, spend]);
    }
    const top = spent.sort((a, b) => b[1] - a[1]).slice(0, n);
    const byGroup = new Map<string | null, number>(top);
    const total = top.reduce((sum, [, spend]) => sum + spend, 0);
    return { status: 'fulfilled', value: history.labels ? { total, byGroup, labels: history.labels } : { total, byGroup } };
  }
}

