// `spend-alerts report`: what was spent and on what, in the window asked for, read as every report
// is (src/engine/report.ts): through the same client and the shared request budget, and when the
// budget can't admit it all, nothing is sent.
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { reportRanges, type Report, type ReportFormat } from '../../core/report.js';
import { renderReportCsv } from '../../render/report/csv.js';
import { renderReportHtml } from '../../render/report/html.js';
import { renderReportJson } from '../../render/report/json.js';
import { renderReportTable } from '../../render/report/table.js';
import { readFullReport, ReportRefused, ReportUnread } from '../../engine/report.js';
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
  let read;
  try {
    read = await readFullReport(langfuse, { alerts: config.alerts, timezone: config.timezone, ranges, top, now });
  } catch (error) {
    if (error instanceof ReportRefused || error instanceof ReportUnread) throw new RuntimeError(`report: ${redact(error.message)}`);
    throw error;
  }
  const { report, unread, waiting } = read;
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
