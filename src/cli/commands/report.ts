// `spend-alerts report`: what was spent and on what, in the window asked for. Its own sections are
// read with src/sources/langfuse/report-source.ts; its budgets are the calendar threshold and
// forecast alerts evaluated as forecasts (src/core/report.ts budgetAlert) through the planner,
// with its history cache. Every request goes through the same client and the shared request
// budget; when the budget can't admit them all, nothing is sent.
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { evaluateAlert, neededRanges } from '../../core/evaluate.js';
import { alertRangeQueries, alertReading, WaitingForHistory, type SpendQuery, type SpendReading } from '../../core/query.js';
import { budgetAlert, budgetEntries, buildReport, reportRanges, type BudgetEntry, type Report, type ReportFormat } from '../../core/report.js';
import type { AlertConfig } from '../../core/alert.js';
import { wallClock } from '../../core/time/zone.js';
import { renderReportCsv } from '../../render/report/csv.js';
import { renderReportHtml } from '../../render/report/html.js';
import { renderReportJson } from '../../render/report/json.js';
import { renderReportTable } from '../../render/report/table.js';
import { describeError } from '../../engine/requests.js';
import { LangfuseError } from '../../sources/langfuse/client.js';
import { readReport, reportRequestBound } from '../../sources/langfuse/report-source.js';
import { terminalSafe } from '../../util/terminal.js';
import { cleanLine } from '../../render/text.js';
import type { CliOptions } from '../args.js';
import type { CommandOutcome } from '../outcome.js';
import { buildLangfuse, logConfigWarnings, prepare, RuntimeError, type Io } from '../compose.js';

export async function reportCommand(options: CliOptions, io: Io, startedAt: Date, clock: () => Date): Promise<CommandOutcome> {
  // On the minute, as check reads: the history cache cuts the budgets' windows at minutes it holds.
  const now = new Date(Math.floor(startedAt.getTime() / 60_000) * 60_000);
  const { window, top, format, output } = options.report;
  const prepared = await prepare(options, io, 'all');
  const { config, log, redact } = prepared;
  logConfigWarnings(prepared);
  let requests = 0;
  const langfuse = await buildLangfuse(config, log, {
    stateDir: resolve(io.cwd, options.stateDir),
    readOnly: false,
    onRequest: () => (requests += 1),
    transport: io.transport,
    clock,
  });
  const ranges = reportRanges(window, now, config.timezone);
  const budgets = config.alerts.flatMap((alert) => {
    const evaluated = budgetAlert(alert);
    return evaluated === null ? [] : [{ alert, evaluated, ranges: neededRanges(evaluated, now, config.timezone) }];
  });
  const perRange = budgets.map(({ evaluated, ranges: needed }) => [needed.current, ...needed.baselines].map((range) => alertRangeQueries(evaluated, range)));
  const budgetQueries: SpendQuery[] = perRange.flat(2);

  // Asked even without a configured budget: a pause Langfuse asked for (a 429) refuses the report too.
  await langfuse.quota.refresh(now);
  const needs = reportRequestBound(ranges) + (await langfuse.source.estimate(budgetQueries));
  const admission = langfuse.quota.admit(needs, now);
  const headroom = langfuse.quota.headroom(now);
  // The daemon lets an evaluation bigger than a whole limit run once nothing else is in its
  // window; a report asked for by hand is refused instead of spending the budget at once.
  if (!admission.ok || needs > headroom) {
    const until = admission.ok ? '' : ` until ${localTime(admission.retryAt, config.timezone)} (${admission.reason})`;
    // while Langfuse asked to wait nothing is admitted, whatever the limits leave
    const admits = !admission.ok && admission.kind === 'rate-limited' ? 0 : headroom;
    throw new RuntimeError(`report: needs ${needs} requests; the budget admits ${admits}${until}`);
  }

  let answers;
  try {
    answers = await readReport(langfuse.client, ranges, top);
  } catch (error) {
    // as the planner does: later commands (and the daemon) wait as long as Langfuse asked
    if (error instanceof LangfuseError && error.kind === 'rate-limited') await langfuse.quota.rateLimited(error.retryAfterSeconds, now);
    throw new RuntimeError(`report: Langfuse could not be read: ${redact(describeError(error))}`);
  } finally {
    // the planner records its own requests; these are the report's
    await langfuse.quota.record(requests, now);
  }
  const { entries, unread, waiting } = await readBudgets(budgets, perRange, budgetQueries, langfuse.source, now, config.timezone);
  const report = buildReport(ranges, answers, entries, top, config.timezone);
  io.stderr.write(`report: ${requests} Langfuse request${requests === 1 ? '' : 's'}\n`);
  // The rest of the report stands; a budget that couldn't be read is a failure (exit 1), one
  // waiting for the history a request budget lets in over several runs is not.
  for (const line of unread) io.stderr.write(`spend-alerts: report: budget not read: ${cleanLine(redact(line), 1_000)}\n`);
  if (waiting.length > 0) io.stderr.write(`report: budgets left out until their history is fetched (run it again later): ${cleanLine(waiting.join(', '))}\n`);

  const terminal = output === undefined && (io.stdout as { isTTY?: boolean }).isTTY === true;
  const text = render(report, format, terminal && !io.env.NO_COLOR);
  if (output === undefined) {
    // The table escapes traced values itself (its colour codes are ours); a csv or html file keeps
    // the data as it is, but a terminal showing one must not obey an escape sequence in it.
    io.stdout.write(terminal && format !== 'table' ? terminalSafe(text) : text);
  } else {
    const file = resolve(io.cwd, output);
    await writeFile(file, text);
    io.stderr.write(terminalSafe(`report: written to ${file}\n`));
  }
  return unread.length > 0 ? 'failed' : 'ok';
}

/** 13:40 in the zone */
function localTime(instant: Date, timezone: string): string {
  const local = wallClock(instant, timezone);
  return `${String(local.hour).padStart(2, '0')}:${String(local.minute).padStart(2, '0')}`;
}

function render(report: Report, format: ReportFormat, colour: boolean): string {
  switch (format) {
    case 'json':
      return renderReportJson(report);
    case 'csv':
      return renderReportCsv(report);
    case 'html':
      return renderReportHtml(report);
    case 'table':
      return renderReportTable(report, { colour });
  }
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
  source: { spendAll(queries: readonly SpendQuery[], signal?: AbortSignal, at?: Date): Promise<PromiseSettledResult<SpendReading>[]> },
  now: Date,
  timezone: string,
): Promise<{ entries: BudgetEntry[]; unread: string[]; waiting: string[] }> {
  const entries: BudgetEntry[] = [];
  const unread: string[] = [];
  const waiting: string[] = [];
  if (queries.length === 0) return { entries, unread, waiting };
  const results = await source.spendAll(queries, undefined, now);
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
