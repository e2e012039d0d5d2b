// `report --format csv`: one row per total, previousTotal, daily, model, traceName, environment,
// trace, user and budget entry, under PRODUCT.md's header; RFC 4180 (CRLF, quoted when needed).
import { groupLabel } from '../text.js';
import type { Report } from '../../core/report.js';

export const CSV_HEADER = ['section', 'name', 'date', 'cost', 'inputTokens', 'outputTokens'] as const;

type Cell = string | number | null;

/**
 * A traced name is hostile: a spreadsheet runs a cell starting with `=`, `+`, `-` or `@` (or a
 * tab or CR, which some strip first) as a formula. Such a text cell gets a leading `'` (OWASP's
 * advice): the spreadsheet shows it as text, and a reader of the raw file sees the quote. Numbers
 * are written by us and never prefixed.
 */
function textCell(value: string | null): string {
  if (value === null) return '';
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

/** RFC 4180: a field with a comma, a quote or a line break is quoted, its quotes doubled. */
function field(value: Cell): string {
  const text = value === null ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function renderReportCsv(report: Report): string {
  const rows: Cell[][] = [
    [...CSV_HEADER],
    ['total', '', '', report.total, null, null],
    ['previousTotal', '', '', report.previousTotal, null, null],
    ...report.daily.map((day): Cell[] => ['daily', '', day.date, day.cost, null, null]),
    ...report.byModel.map((row): Cell[] => ['model', textCell(row.model), '', row.cost, row.inputTokens, row.outputTokens]),
    ...report.byTraceName.map((row): Cell[] => ['traceName', textCell(row.traceName), '', row.cost, null, null]),
    ...report.byEnvironment.map((row): Cell[] => ['environment', textCell(row.environment), '', row.cost, null, null]),
    ...report.topTraces.map((row): Cell[] => ['trace', textCell(row.traceId), '', row.cost, null, null]),
    ...report.topUsers.map((row): Cell[] => ['user', textCell(row.userId), '', row.cost, null, null]),
    // a budget's name is its alert and group, as notifications show it
    ...report.budgets.map((row): Cell[] => ['budget', textCell(budgetName(row.alert, row.group)), '', row.spend, null, null]),
  ];
  return rows.map((row) => row.map(field).join(',')).join('\r\n') + '\r\n';
}

export function budgetName(alert: string, group: Readonly<Record<string, string | null>>): string {
  const label = groupLabel(group);
  return label === null ? alert : `${alert} [${label}]`;
}
