// What an evaluation asks Langfuse: every alert's current window and baselines, plus the final
// check of a calendar period that closed `lagMargin` ago; and the evaluation of the answers.
import type { AlertConfig } from '../config/schema.js';
import { evaluateAlert, neededRanges, type NeededRanges } from '../core/evaluate.js';
import { LangfuseError } from '../sources/langfuse/client.js';
import { alertQuery, WaitingForHistory, type SpendReading } from '../core/query.js';
import type { State } from '../core/ledger.js';
import { parseWindow, periodStart } from '../core/time/windows.js';
import { MAX_RETRY_AFTER_SECONDS } from '../util/http.js';
import type { AlertFailure, EvaluatedAlert, PeriodCheck } from '../core/decide/index.js';
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

/** The ranges of the period that ends right after `justBefore`, measured to its very end. */
function closedPeriodRanges(alert: AlertConfig, justBefore: Date, timezone: string): NeededRanges {
  const ranges = neededRanges(alert, justBefore, timezone);
  const extend = (r: { from: Date; to: Date }) => ({ from: r.from, to: new Date(r.to.getTime() + 1) });
  return { current: extend(ranges.current), baselines: ranges.baselines.map(extend) };
}

/** The calendar checks the requests ask for: what the decision marks as finalized once evaluated. */
export function periodChecks(requests: readonly AlertRequest[]): PeriodCheck[] {
  return requests.flatMap(({ alert, previousPeriod, final }) => (previousPeriod === undefined ? [] : [{ alert: alert.name, previousPeriod, final }]));
}

/**
 * The pause Langfuse asked for (`state.langfuse.blockedUntil`) still in force at `now`; null when
 * there is none. A stored value that can't be right (an older version, a hand edit) is repaired,
 * and `problem` says how: not a date → dropped; further ahead than any Retry-After may ask → 24 h
 * from `now`. The pipeline records the repaired value, so the problem is reported once.
 */
export function langfusePause(state: State, now: Date): { until: Date | null; problem?: string } {
  const stored = state.langfuse.blockedUntil;
  if (stored === null || stored === undefined) return { until: null };
  const at = typeof stored === 'string' ? Date.parse(stored) : Number.NaN;
  if (Number.isNaN(at)) {
    return { until: null, problem: `the stored Langfuse pause (${String(stored).slice(0, 40)}) is not a date: dropped` };
  }
  const latest = now.getTime() + MAX_RETRY_AFTER_SECONDS * 1000;
  if (at > latest) {
    const until = new Date(latest);
    return { until, problem: `the stored Langfuse pause until ${stored} is more than 24 h ahead: shortened to ${until.toISOString()}` };
  }
  return { until: at > now.getTime() ? new Date(at) : null };
}

export async function fetchAndEvaluate(
  input: TickDeps,
  requests: readonly AlertRequest[],
  state: State,
  now: Date,
  policy: CheckPolicy,
): Promise<{ evaluations: EvaluatedAlert[]; alertFailures: AlertFailure[]; rateLimitedUntil: Date | null; waiting: WaitingAlerts | null }> {
  const evaluations: EvaluatedAlert[] = [];
  const alertFailures: AlertFailure[] = [];
  const waiting = { alerts: [] as string[], evaluations: 0 };
  const pause = langfusePause(state, now);
  if (pause.problem !== undefined) input.log.warn({ event: 'state-repaired' }, pause.problem);
  if (pause.until !== null) {
    const error = `Langfuse asked not to be queried before ${pause.until.toISOString()} (rate limit); not queried`;
    for (const request of requests) if (!request.final) alertFailures.push({ alert: request.alert.name, error });
    return { evaluations, alertFailures, rateLimitedUntil: null, waiting: null };
  }
  const queries = requests.flatMap(({ alert, ranges }) =>
    [ranges.current, ...ranges.baselines].map((range) => alertQuery(alert, range)),
  );
  const results = await input.source.spendAll(queries, anySignal(input.signal, policy.fetchBudgetMs));
  let rateLimitedUntil: Date | null = null;
  let next = 0;
  for (const request of requests) {
    const mine = results.slice(next, (next += 1 + request.ranges.baselines.length));
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
      const reason: unknown = failed.reason;
      if (reason instanceof LangfuseError && reason.kind === 'rate-limited' && reason.retryAfterSeconds !== undefined) {
        rateLimitedUntil = new Date(now.getTime() + reason.retryAfterSeconds * 1000);
      }
      // a final check that failed is simply tried again at the next evaluation
      if (!request.final) alertFailures.push({ alert: request.alert.name, error: input.redact(describeError(reason)) });
      continue;
    }
    const [current, ...baselines] = mine.map((r) => (r as PromiseFulfilledResult<SpendReading>).value);
    const series = evaluateAlert(request.alert, { current: current!, baselines }, { now: request.at, timezone: input.config.timezone });
    evaluations.push({
      alert: request.alert,
      series: request.final ? series.map((s) => ({ ...s, window: { ...s.window, to: request.ranges.current.to.toISOString() } })) : series,
      ...(request.final ? { final: true } : {}),
    });
  }
  return { evaluations, alertFailures, rateLimitedUntil, waiting: waiting.alerts.length > 0 ? waiting : null };
}

/** `waiting for history: a, b (about 2 more evaluations)` */
export function waitingLine(waiting: WaitingAlerts): string {
  const { alerts, evaluations } = waiting;
  return `waiting for history: ${alerts.join(', ')} (about ${evaluations} more evaluation${evaluations === 1 ? '' : 's'})`;
}

function describeError(error: unknown): string {
  if (error instanceof Error) return error.name === 'AbortError' || error.name === 'TimeoutError' ? 'the evaluation ran out of time' : error.message;
  return String(error);
}

export function anySignal(signal: AbortSignal | undefined, budgetMs: number): AbortSignal {
  const timeout = AbortSignal.timeout(budgetMs);
  return signal ? AbortSignal.any([signal, timeout]) : timeout;
}
