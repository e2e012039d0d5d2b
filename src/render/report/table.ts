// `report --format table`: for an 80-column terminal. Every line is at most WIDTH characters
// (names are cut with an ellipsis), traced values have their control characters escaped, and
// colour (bold headings, dim notes) is added only when the caller says the terminal takes it.
import { formatUsd } from '../money.js';
import { cleanLine, truncate } from '../text.js';
import type { Report } from '../../core/report.js';
import { budgetName } from './csv.js';

export const TABLE_WIDTH = 80;
const COST_WIDTH = 14;
const BAR_WIDTH = 24;
const SPARKS = '▁▂▃▄▅▆▇█';

export interface TableOptions {
  /** ANSI colour: only for a TTY without NO_COLOR */
  readonly colour: boolean;
}

/** A Unicode sparkline, one character per value, the highest value a full block. */
export function sparkline(values: readonly number[]): string {
  const max = Math.max(0, ...values);
  return values.map((value) => (max <= 0 ? SPARKS[0]! : SPARKS[Math.min(SPARKS.length - 1, Math.floor((value / max) * (SPARKS.length - 1) + 0.5))]!)).join('');
}

function bar(value: number, max: number): string {
  return max <= 0 ? '' : '█'.repeat(Math.round((value / max) * BAR_WIDTH));
}

const nameOf = (value: string | null): string => (value === null ? '(none)' : value);

/** `name ….. $12.34` on one line of at most `width` characters */
function row(name: string, cost: string, width = TABLE_WIDTH): string {
  const room = width - COST_WIDTH - 2;
  return `  ${truncate(cleanLine(name), room).padEnd(room)}${cost.padStart(COST_WIDTH)}`;
}

/** "+12.3%", "new spend", "no change": the total against the span before */
export function changeText(total: number, previous: number): string {
  if (previous <= 0) return total > 0 ? 'new spend' : 'no change';
  const percent = ((total - previous) / previous) * 100;
  return `${percent >= 0 ? '+' : ''}${percent.toFixed(1)}%`;
}

export function renderReportTable(report: Report, options: TableOptions): string {
  const bold = (text: string) => (options.colour ? `\x1b[1m${text}\x1b[0m` : text);
  const dim = (text: string) => (options.colour ? `\x1b[2m${text}\x1b[0m` : text);
  const out: string[] = [];
  const heading = (title: string) => out.push('', bold(title));
  out.push(bold(`LLM spend ${report.window.from} – ${report.window.to}`), dim(`dates in ${cleanLine(report.window.timezone, 40)}`));
  out.push(row('Total', formatUsd(report.total)));
  out.push(row(`Previous span (${changeText(report.total, report.previousTotal)})`, formatUsd(report.previousTotal)));

  heading(`Daily  ${sparkline(report.daily.map((day) => day.cost))}`);
  const maxDay = Math.max(0, ...report.daily.map((day) => day.cost));
  for (const day of report.daily) out.push(`  ${day.date}  ${formatUsd(day.cost).padStart(COST_WIDTH)}  ${bar(day.cost, maxDay)}`);

  heading('By model                                           tokens in / out');
  for (const model of report.byModel) {
    const figures = `${formatUsd(model.cost)}  ${compact(model.inputTokens)} / ${compact(model.outputTokens)}`;
    const room = TABLE_WIDTH - figures.length - 3;
    out.push(`  ${truncate(cleanLine(nameOf(model.model)), room).padEnd(room)} ${figures}`);
  }
  const section = (title: string, rows: ReadonlyArray<{ name: string; cost: number }>) => {
    heading(title);
    if (rows.length === 0) out.push(dim('  nothing spent'));
    for (const entry of rows) out.push(row(entry.name, formatUsd(entry.cost)));
  };
  section('By trace name', report.byTraceName.map((r) => ({ name: nameOf(r.traceName), cost: r.cost })));
  section('By environment', report.byEnvironment.map((r) => ({ name: nameOf(r.environment), cost: r.cost })));
  section(
    'Top traces',
    report.topTraces.map((r) => ({ name: `${r.traceId} ${nameOf(r.traceName)} ${nameOf(r.userId)}`, cost: r.cost })),
  );
  section('Top users', report.topUsers.map((r) => ({ name: nameOf(r.userId), cost: r.cost })));

  heading('Budgets                                  spend / threshold, forecast');
  if (report.budgets.length === 0) out.push(dim('  no calendar threshold or forecast alert'));
  for (const budget of report.budgets) {
    const figures = `${formatUsd(budget.spend)} / ${formatUsd(budget.threshold)}, ${budget.forecast === null ? 'no forecast' : formatUsd(budget.forecast)}`;
    const room = TABLE_WIDTH - figures.length - 3;
    out.push(`  ${truncate(cleanLine(`${budgetName(budget.alert, budget.group)} (${budget.window})`), room).padEnd(room)} ${figures}`);
  }
  return out.join('\n') + '\n';
}

/** 1234567 → 1.2M: token counts in a narrow column */
function compact(value: number): string {
  if (value < 10_000) return String(value);
  if (value < 1_000_000) return `${(value / 1000).toFixed(1)}k`;
  return `${(value / 1_000_000).toFixed(1)}M`;
}
