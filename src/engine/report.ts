// A report read from Langfuse, the same for `report`, `digest` and the daemon's digests: its own
// sections (src/sources/langfuse/report-source.ts) and its budgets, the calendar threshold and
// forecast alerts evaluated as forecasts (src/core/report.ts budgetAlert) through the planner with
// its history cache. Every request spends from the shared request budget; when the budget can't
// admit them all, nothing is sent.
import type { AlertConfig } from '../core/alert.js';
import { evaluateAlert, neededRanges } from '../core/evaluate.js';
import { alertRangeQueries, alertReading, WaitingForHistory, type SpendQuery, type SpendReading } from '../core/query.js';
import { budgetAlert, budgetEntries, buildReport, type BudgetEntry, type Report, type ReportRanges } from '../core/report.js';
import { wallClock } from '../core/time/zone.js';
import type { LangfuseClient } from '../sources/langfuse/client.js';
import type { PlannedSpendSource, RequestQuota } from '../sources/langfuse/planner/index.js';
import { readReport, reportRequestBound } from '../sources/langfuse/report-source.js';
import { readBudgeted } from './budgeted.js';
import { describeError } from './requests.js';

export interface ReportLangfuse {
  readonly client: Pick<LangfuseClient, 'metrics'>;
  readonly source: Pick<PlannedSpendSource, 'estimate' | 'spendAll'>;
  readonly quota: RequestQuota;
}

/** The request budget can't admit the report: nothing was sent. */
export class ReportRefused extends Error {
  override name = 'ReportRefused';
}

/** Langfuse failed the report's own sections. */
export class ReportUnread extends Error {
  override name = 'ReportUnread';
}

export interface ReadReport {
  readonly report: Report;
  /** budgets that couldn't be read, each with why (unredacted) */
  readonly unread: readonly string[];
  /** budgets left out until the request budget lets their history in */
  readonly waiting: readonly string[];
}

export interface ReportRequest {
  readonly alerts: readonly AlertConfig[];
  readonly timezone: string;
  readonly ranges: ReportRanges;
  readonly top: number;
  /** on the minute: the history cache cuts the budgets' windows at minutes it holds */
  readonly now: Date;
  readonly signal?: AbortSignal;
}

/**
 * Admits the report's requests against the request budget (throwing ReportRefused, with "needs 14
 * requests; the budget admits 6 until 13:40", when it can't), then reads it. The report's own
 * requests are recorded in the budget here; the planner records its own.
 */
export async function readFullReport(langfuse: ReportLangfuse, request: ReportRequest): Promise<ReadReport> {
  const { now, timezone } = request;
  const budgets = request.alerts.flatMap((alert) => {
    const evaluated = budgetAlert(alert);
    return evaluated === null ? [] : [{ alert, evaluated, ranges: neededRanges(evaluated, now, timezone) }];
  });
  const perRange = budgets.map(({ evaluated, ranges: needed }) => [needed.current, ...needed.baselines].map((range) => alertRangeQueries(evaluated, range)));
  const budgetQueries: SpendQuery[] = perRange.flat(2);

  // Asked even without a configured budget: a pause Langfuse asked for (a 429) refuses the report too.
  await langfuse.quota.refresh(now);
  const needs = reportRequestBound(request.ranges) + (await langfuse.source.estimate(budgetQueries));
  const admission = langfuse.quota.admit(needs, now);
  const headroom = langfuse.quota.headroom(now);
  // The daemon lets an evaluation bigger than a whole limit run once nothing else is in its
  // window; a report is refused instead of spending the budget at once.
  if (!admission.ok || needs > headroom) {
    const until = admission.ok ? '' : ` until ${localTime(admission.retryAt, timezone)} (${admission.reason})`;
    // while Langfuse asked to wait nothing is admitted, whatever the limits leave
    const admits = !admission.ok && admission.kind === 'rate-limited' ? 0 : headroom;
    throw new ReportRefused(`needs ${needs} requests; the budget admits ${admits}${until}`);
  }

  let answers;
  try {
    answers = await readBudgeted(langfuse.client, langfuse.quota, now, (client) => readReport(client, request.ranges, request.top, request.signal));
  } catch (error) {
    throw new ReportUnread(`Langfuse could not be read: ${describeError(error)}`);
  }
  const { entries, unread, waiting } = await readBudgets(budgets, perRange, budgetQueries, langfuse.source, now, timezone, request.signal);
  return { report: buildReport(request.ranges, answers, entries, request.top, timezone), unread, waiting };
}

/** 13:40 in the zone */
function localTime(instant: Date, timezone: string): string {
  const local = wallClock(instant, timezone);
  return `${String(local.hour).padStart(2, '0')}:${String(local.minute).padStart(2, '0')}`;
}

interface BudgetRead {
  readonly alert: AlertConfig;
  readonly evaluated: AlertConfig;
}

/**
 * Each budget alert's series from one spendAll (the planner shares requests between them). An
 * alert whose ranges couldn't be read has no entry and is named in `unread` with why; one whose
 * history the request budget lets in only over several runs (a cold start) has none either, and is
 * named in `waiting`.
 */
async function readBudgets(
  budgets: readonly BudgetRead[],
  perRange: readonly SpendQuery[][][],
  queries: readonly SpendQuery[],
  source: Pick<PlannedSpendSource, 'spendAll'>,
  now: Date,
  timezone: string,
  signal: AbortSignal | undefined,
): Promise<{ entries: BudgetEntry[]; unread: string[]; waiting: string[] }> {
  const entries: BudgetEntry[] = [];
  const unread: string[] = [];
  const waiting: string[] = [];
  if (queries.length === 0) return { entries, unread, waiting };
  const results = await source.spendAll(queries, signal, now);
  let next = 0;
  budgets.forEach(({ alert, evaluated }, index) => {
    const ranges = perRange[index]!;
    const mine = results.slice(next, (next += ranges.reduce((sum, range) => sum + range.length, 0)));
    const failed = mine.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed) {
      if (failed.reason instanceof WaitingForHistory) waiting.push(alert.name);
      else unread.push(`${alert.name}: ${describeError(failed.reason)}`);
      return;
    }
    const answers = mine.map((result) => (result as PromiseFulfilledResult<SpendReading>).value);
    let offset = 0;
    const [current, ...baselines] = ranges.map((range) => alertReading(evaluated, answers.slice(offset, (offset += range.length))));
    const series = evaluateAlert(evaluated, { current: current!, baselines }, { now, timezone });
    const hasHistory = (group: string | null): boolean =>
      baselines.some((reading) => (reading.byGroup === null ? reading.total : (reading.byGroup.get(group) ?? 0)) > 0);
    entries.push(...budgetEntries(alert, series, (s) => hasHistory(s.groupValue)));
  });
  return { entries, unread, waiting };
}
