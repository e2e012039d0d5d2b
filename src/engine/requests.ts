// What an evaluation asks Langfuse: every alert's current window and baselines, plus the final
// check of a calendar period that closed `lagMargin` ago; and the evaluation of the answers.
import type { AlertConfig } from '../config/schema.js';
import { evaluateAlert, neededRanges, type NeededRanges } from '../core/evaluate.js';
import { explainQueries, explainRanges, type ExplainRanges } from '../core/explain.js';
import { alertRangeQueries, alertReading, WaitingForHistory, type SpendQuery, type SpendReading, type SpendResult } from '../core/query.js';
import type { State } from '../core/ledger.js';
import { parseWindow, periodStart } from '../core/time/windows.js';
import type { AlertFailure, EvaluatedAlert, PeriodCheck } from '../core/decide/index.js';
import type { AlertExplain } from './contributors.js';
import type { CheckPolicy, TickDeps, WaitingAlerts } from './types.js';

export interface AlertRequest {
  readonly alert: AlertConfig;
  readonly ranges: NeededRanges;
  readonly final: boolean;
  /** the time the series are evaluated at: now, or the end of the closed period */
  readonly at: Date;
  /** calendar windows: ISO start of the period before the current one */
  readonly previousPeriod?: string;
}

/** The regular request of every alert, plus the final check of a calendar period closed lagMargin ago. */
export function alertRequests(
  alerts: readonly AlertConfig[],
  state: State,
  timezone: string,
  now: Date,
  lagMarginMs: number,
): AlertRequest[] {
  const requests: AlertRequest[] = [];
  for (const alert of alerts) {
    const spec = parseWindow(alert.window);
    if (spec.kind !== 'calendar') {
      requests.push({ alert, ranges: neededRanges(alert, now, timezone), final: false, at: now });
      continue;
    }
    const closedAt = periodStart(spec, now, timezone);
    const previousPeriod = periodStart(spec, new Date(closedAt.getTime() - 1), timezone).toISOString();
    requests.push({ alert, ranges: neededRanges(alert, now, timezone), final: false, at: now, previousPeriod });
    const finalized = state.finalized[alert.name];
    // Only periods the worker watched get a final check: a fresh install stays quiet about the past.
    if (finalized === undefined || finalized >= previousPeriod || now.getTime() - closedAt.getTime() < lagMarginMs) continue;
    // evaluated just before the period's end, its ranges then extended to the end itself
    const at = new Date(closedAt.getTime() - 1);
    requests.push({ alert, ranges: closedPeriodRanges(alert, at, timezone), final: true, at, previousPeriod });
  }
  return requests;
}

/**
 * The ranges of the period that ends right after `justBefore`, measured to its very end: those
 * measured to `justBefore`'s point (the current one, baselines to the same point) end a millisecond
 * short of a minute and are extended by it. Ranges that end where they are whole anyway (a
 * forecast's hourly profile) are left alone: extended, each would overhang into the next hour and
 * need a request of its own.
 */
function closedPeriodRanges(alert: AlertConfig, justBefore: Date, timezone: string): NeededRanges {
  const ranges = neededRanges(alert, justBefore, timezone);
  const extend = (r: { from: Date; to: Date }) => (r.to.getTime() % 60_000 === 59_999 ? { from: r.from, to: new Date(r.to.getTime() + 1) } : r);
  return { current: extend(ranges.current), baselines: ranges.baselines.map(extend) };
}

/** The calendar checks the requests ask for: what the decision marks as finalized once evaluated. */
export function periodChecks(requests: readonly AlertRequest[]): PeriodCheck[] {
  return requests.flatMap(({ alert, previousPeriod, final }) => (previousPeriod === undefined ? [] : [{ alert: alert.name, previousPeriod, final }]));
}

export async function fetchAndEvaluate(
  input: TickDeps,
  requests: readonly AlertRequest[],
  now: Date,
  policy: CheckPolicy,
): Promise<{ evaluations: EvaluatedAlert[]; alertFailures: AlertFailure[]; waiting: WaitingAlerts | null; explains: Map<EvaluatedAlert, AlertExplain> }> {
  const evaluations: EvaluatedAlert[] = [];
  const alertFailures: AlertFailure[] = [];
  const explains = new Map<EvaluatedAlert, AlertExplain>();
  const waiting = { alerts: [] as string[], evaluations: 0 };
  // per range, the alert's queries (one per value of a metadata group), put back together below
  const perRange = requests.map(({ alert, ranges }) => [ranges.current, ...ranges.baselines].map((range) => alertRangeQueries(alert, range)));
  // and the explain dimensions that ride along the same requests (core/explain.ts): per range read, its queries
  const explainPlans = requests.map((request) => explainPlan(request, input.config.timezone));
  const queries: SpendQuery[] = [...perRange.flat(2), ...explainPlans.flatMap((plan) => plan.perRange.flat())];
  const results = await input.source.spendAll(queries, anySignal(input.signal, policy.fetchBudgetMs));
  let next = 0;
  const take = (count: number): SpendResult[] => results.slice(next, (next += count));
  const answered = requests.map((_, index) => take(perRange[index]!.reduce((sum, queries) => sum + queries.length, 0)));
  const explained = explainPlans.map((plan) => plan.perRange.map((queries) => take(queries.length)));
  for (const [index, request] of requests.entries()) {
    const ranges = perRange[index]!;
    const mine = answered[index]!;
    const failed = mine.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    const pending = mine.find((r): r is PromiseRejectedResult => r.status === 'rejected' && r.reason instanceof WaitingForHistory);
    if (pending) {
      // Not a failure: the alert is evaluated once its history is in; a final check just comes later.
      if (!request.final) {
        waiting.alerts.push(request.alert.name);
        waiting.evaluations = Math.max(waiting.evaluations, (pending.reason as WaitingForHistory).evaluations);
      }
      continue;
    }
    if (failed) {
      // a final check that failed is simply tried again at the next evaluation
      if (!request.final) alertFailures.push({ alert: request.alert.name, error: input.redact(describeError(failed.reason)) });
      continue;
    }
    const answers = mine.map((r) => (r as PromiseFulfilledResult<SpendReading>).value);
    let offset = 0;
    const [current, ...baselines] = ranges.map((queries) => alertReading(request.alert, answers.slice(offset, (offset += queries.length))));
    const series = evaluateAlert(request.alert, { current: current!, baselines }, { now: request.at, timezone: input.config.timezone });
    const evaluated: EvaluatedAlert = {
      alert: request.alert,
      series: request.final ? series.map((s) => ({ ...s, window: { ...s.window, to: request.ranges.current.to.toISOString() } })) : series,
      ...(request.final ? { final: true } : {}),
    };
    evaluations.push(evaluated);
    const [explainCurrent, ...explainBaselines] = explained[index]!;
    explains.set(evaluated, { ranges: explainPlans[index]!.ranges, current: explainCurrent ?? [], baselines: explainBaselines });
  }
  return { evaluations, alertFailures, waiting: waiting.alerts.length > 0 ? waiting : null, explains };
}

/** What the evaluation reads for the alert's contributors (core/explain.ts); a final check measures them to the period's end. */
function explainPlan(request: AlertRequest, timezone: string): { ranges: ExplainRanges; perRange: SpendQuery[][] } {
  const measured = explainRanges(request.alert, request.at, timezone);
  const extend = (r: { from: Date; to: Date }) => (request.final ? { from: r.from, to: new Date(r.to.getTime() + 1) } : r);
  const ranges: ExplainRanges = { current: extend(measured.current), baselines: measured.baselines.map(extend) };
  return { ranges, perRange: [ranges.current, ...ranges.baselines].map((range) => explainQueries(request.alert, range)) };
}

/** `waiting for history: a, b (about 2 more evaluations)` */
export function waitingLine(waiting: WaitingAlerts): string {
  const { alerts, evaluations } = waiting;
  return `waiting for history: ${alerts.join(', ')} (about ${evaluations} more evaluation${evaluations === 1 ? '' : 's'})`;
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return error.name === 'AbortError' || error.name === 'TimeoutError' ? 'the evaluation ran out of time' : error.message;
  return String(error);
}

export function anySignal(signal: AbortSignal | undefined, budgetMs: number): AbortSignal {
  const timeout = AbortSignal.timeout(budgetMs);
  return signal ? AbortSignal.any([signal, timeout]) : timeout;
}
