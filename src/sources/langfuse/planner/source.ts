// The request planner as a SpendSource: answers every query of an evaluation from as few Langfuse
// requests as possible, with numbers identical to one request per query (LangfuseSpendSource).
// An evaluation is planned (./plan.ts), executed (./execute.ts), answered (./assemble.ts), and
// what it fetched of closed hours is committed to the history cache (./commit.ts).
//
// Under a request budget an evaluation sends at most its allowance (see RequestQuota.burst):
// what every alert needs now (top-N queries, the open hours) first, then history newest first.
// A cold start thus fills the history over several evaluations; an alert whose ranges aren't
// all known yet is answered with WaitingForHistory, the others are evaluated.
import { GROUP_BY_FIELDS } from '../../../core/alert.js';
import type { HourSlices } from '../../../core/daily-spend.js';
import { WaitingForHistory, type SpendQuery, type SpendResult, type SpendSource } from '../../../core/query.js';
import type { Logger } from '../../../log/logger.js';
import type { LangfuseClient, LangfuseError } from '../client.js';
import { LangfusePausedError } from '../quota.js';
import { assembleAnswers } from './assemble.js';
import type { HistoryCache } from './cache.js';
import { commitToCache } from './commit.js';
import { scheduleCuts } from './cuts.js';
import { cacheEntryKey, Evaluation, WAITING, type Lookbacks } from './evaluation.js';
import { filterKey } from './keys.js';
import { executeEvaluation } from './execute.js';
import { RequestGate } from './fetch.js';
import { lookbacksAt, type PlannerSettings } from './settings.js';
import { countRequests } from './simulate.js';
import { floorTo, HOUR } from './time.js';

export interface PlannerOptions {
  readonly client: LangfuseClient;
  readonly settings: PlannerSettings;
  /** called once, before the first evaluation */
  readonly loadCache: () => Promise<HistoryCache>;
  /** true: the cache is read, never written (`check --dry-run`) */
  readonly readOnly: boolean;
  readonly log: Logger;
  /** told about every request sent and every rate limit met */
  readonly onUsage?: (usage: EvaluationUsage) => Promise<void>;
  /** until when Langfuse asked not to be queried (a 429), as of `now`: nothing is sent before then */
  readonly pausedUntil?: (now: Date) => Promise<Date | null>;
  /** the most requests an evaluation at `now` may send; unlimited without it */
  readonly allowance?: (now: Date) => number;
  /** the requests the limits still admit at `now`: a later round of the same evaluation sends no more */
  readonly headroom?: (now: Date) => number;
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

export class PlannedSpendSource implements SpendSource {
  private last: EvaluationUsage | null = null;
  /** what the rounds of the evaluation at `now` have sent so far: they share its allowance */
  private round: { readonly now: number; sent: number } | null = null;
  private cache: Promise<HistoryCache> | null = null;
  private lookbacks: Lookbacks | null = null;

  constructor(private readonly options: PlannerOptions) {}

  private history(): Promise<HistoryCache> {
    return (this.cache ??= this.options.loadCache());
  }

  /** What the latest spendAll cost; null before the first. */
  get lastUsage(): EvaluationUsage | null {
    return this.last;
  }

  async spendAll(queries: readonly SpendQuery[], signal?: AbortSignal, at?: Date): Promise<SpendResult[]> {
    if (queries.length === 0) return [];
    const cache = await this.history();
    const now = Math.max(evaluationTime(queries), at?.getTime() ?? -Infinity);
    const pausedUntil = await this.options.pausedUntil?.(new Date(now));
    if (pausedUntil) {
      const paused = new LangfusePausedError(pausedUntil);
      return queries.map((): SpendResult => ({ status: 'rejected', reason: paused }));
    }
    const evaluation = this.evaluation(queries, now, cache);
    // A later round of the same evaluation (a firing series' contributors) spends what the first
    // left of the allowance, and never more than the limits still admit.
    const later = this.round?.now === now;
    if (!later) this.round = { now, sent: 0 };
    const allowance = later
      ? Math.max(0, Math.min(this.allowance(now) - this.round!.sent, this.options.headroom?.(new Date(now)) ?? Infinity))
      : this.allowance(now);
    const gate = new RequestGate(this.options.client, signal, allowance);
    try {
      await executeEvaluation(evaluation, gate, this.options.concurrency ?? 4);
    } finally {
      this.round!.sent += gate.sent;
    }
    let results = assembleAnswers(evaluation);
    commitToCache(evaluation);
    if (evaluation.capped) {
      const waiting = new WaitingForHistory(this.evaluationsLeft(queries, now, cache, allowance));
      results = results.map((result) => (result.status === 'rejected' && result.reason === WAITING ? { status: 'rejected', reason: waiting } : result));
    }
    this.last = { at: new Date(now), requests: gate.sent, rateLimited: gate.rateLimited, allowance };
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
   * The project's whole spend per closed hour, as far as the history cache holds it, for the status
   * page: never a request. That is the unfiltered filter set's hours — its total where an alert
   * without filters or groupBy keeps them, else a groupBy field's groups summed (every observation
   * is in exactly one group of a field). Empty until the first evaluation loaded the cache.
   */
  async cachedProjectSpend(): Promise<ReadonlyMap<number, HourSlices>> {
    const hours = new Map<number, HourSlices>();
    if (this.cache === null) return hours;
    const cache = await this.cache;
    const unfiltered = filterKey({});
    for (const dim of ['', ...GROUP_BY_FIELDS] as const) {
      for (const [hour, slices] of cache.hourSlices(cacheEntryKey(this.options.client.apiVersion, dim, unfiltered))) {
        if (!hours.has(hour)) hours.set(hour, slices);
      }
    }
    return hours;
  }

  /**
   * The requests spendAll(queries) would send now, with what the cache holds: exact for a warm
   * cache; for hours not cached yet it assumes they hold spend (an upper bound) and one page each;
   * never more than the allowance.
   */
  async estimate(queries: readonly SpendQuery[]): Promise<number> {
    if (queries.length === 0) return 0;
    const now = evaluationTime(queries);
    return countRequests(this.evaluation(queries, now, await this.history()), this.allowance(now));
  }

  private evaluation(queries: readonly SpendQuery[], now: number, cache: HistoryCache): Evaluation {
    const { settings } = this.options;
    return new Evaluation(queries, {
      now,
      lagMarginMs: settings.lagMarginMs,
      cuts: scheduleCuts(settings.schedules, settings.timezone, now),
      lookbacks: this.lookbacksAt(now),
      cache,
      version: this.options.client.apiVersion,
    });
  }

  private allowance(now: number): number {
    return this.options.allowance?.(new Date(now)) ?? Infinity;
  }

  /**
   * After a capped evaluation: about how many more the history needs. Each sends its allowance,
   * of which what a warm evaluation sends (a request per filter set and top-N query) goes to the
   * open hours, the rest to history.
   */
  private evaluationsLeft(queries: readonly SpendQuery[], now: number, cache: HistoryCache, allowance: number): number {
    const evaluation = this.evaluation(queries, now, cache);
    const warm = evaluation.sets.size + evaluation.topN.size;
    const needed = countRequests(evaluation, Infinity);
    return Math.max(1, Math.ceil((needed - warm) / Math.max(1, allowance - warm)));
  }

  /**
   * Lookbacks only move forward, and by whole hours except where a calendar period begins at a
   * local midnight off the hour; reusing an hour's answer within that hour keeps at most an hour
   * more than needed, and saves working out windows for every alert at every evaluation.
   */
  private lookbacksAt(now: number): Lookbacks {
    if (this.lookbacks?.hour === floorTo(now, HOUR)) return this.lookbacks;
    return (this.lookbacks = lookbacksAt(this.options.settings, new Date(now)));
  }
}

/** Every evaluation asks for its current windows, which end at its time; nothing asks beyond it. */
function evaluationTime(queries: readonly SpendQuery[]): number {
  return Math.max(...queries.map((query) => query.to.getTime()));
}
