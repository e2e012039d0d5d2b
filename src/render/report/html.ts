// `report --format html`: one self-contained file — inline CSS, charts as inline SVG, no script,
// no external reference (nothing to fetch, nothing to run: it opens from a mail attachment or an
// air-gapped disk the same). Every traced value is HTML-escaped, in SVG <title>/<text> too.
// Sections and charts carry stable ids for browser tests: #total, #daily-chart, #model-chart,
// #top-traces, #top-users, #budgets.
import { escapeHtml } from '../email.js';
import { formatUsd } from '../money.js';
import { cleanLine } from '../text.js';
import type { Report } from '../../core/report.js';
import { budgetName } from './csv.js';

const CSS = `
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:960px;padding:0 1rem;color:#1f2328;background:#fff}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem;border-bottom:1px solid #d0d7de;padding-bottom:.3rem}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.25rem .5rem;border-bottom:1px solid #eaeef2}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}.muted{color:#59636e}
.total{font-size:2rem;font-weight:600}svg{max-width:100%;height:auto}.bar{fill:#0969da}.bar:hover{fill:#0550ae}
svg text{font-size:11px;fill:#1f2328}
`;

/** Text for HTML: control characters escaped visibly (as the other media do), then HTML-escaped. */
const text = (value: string | null, none = '(none)'): string => escapeHtml(value === null ? none : cleanLine(value));

function change(total: number, previous: number): string {
  if (previous <= 0) return total > 0 ? 'new spend' : 'no change';
  const percent = ((total - previous) / previous) * 100;
  return `${percent >= 0 ? '+' : ''}${percent.toFixed(1)}%`;
}

/** Daily spend as vertical bars, each with its date and cost as a tooltip. */
function dailyChart(days: Report['daily']): string {
  const width = 900;
  const height = 220;
  const top = 10;
  const bottom = 30;
  const max = Math.max(0, ...days.map((day) => day.cost));
  const step = days.length === 0 ? 0 : width / days.length;
  const bars = days.map((day, i) => {
    const h = max <= 0 ? 0 : ((height - top - bottom) * day.cost) / max;
    const x = i * step;
    const label = i === 0 || i === days.length - 1 || days.length <= 10 || i % 7 === 0 ? `<text x="${(x + step / 2).toFixed(1)}" y="${height - 10}" text-anchor="middle">${escapeHtml(day.date.slice(5))}</text>` : '';
    return (
      `<rect class="bar" x="${(x + step * 0.1).toFixed(1)}" y="${(height - bottom - h).toFixed(1)}" width="${(step * 0.8).toFixed(1)}" height="${h.toFixed(1)}">` +
      `<title>${escapeHtml(day.date)}: ${escapeHtml(formatUsd(day.cost))}</title></rect>${label}`
    );
  });
  return (
    `<svg id="daily-chart" data-testid="daily-chart" role="img" aria-label="Daily spend" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">` +
    `<line x1="0" y1="${height - bottom}" x2="${width}" y2="${height - bottom}" stroke="#d0d7de"/>${bars.join('')}</svg>`
  );
}

/** Cost by model as horizontal bars, the model's name and cost beside each. */
function modelChart(models: Report['byModel']): string {
  const width = 900;
  const rowHeight = 24;
  const labelWidth = 280;
  const height = Math.max(1, models.length) * rowHeight + 10;
  const max = Math.max(0, ...models.map((m) => m.cost));
  const rows = models.map((model, i) => {
    const y = 5 + i * rowHeight;
    const w = max <= 0 ? 0 : ((width - labelWidth - 110) * model.cost) / max;
    const name = text(model.model);
    return (
      `<text x="${labelWidth - 8}" y="${y + 16}" text-anchor="end">${text(truncateName(model.model))}</text>` +
      `<rect class="bar" x="${labelWidth}" y="${y + 4}" width="${w.toFixed(1)}" height="${rowHeight - 8}"><title>${name}: ${escapeHtml(formatUsd(model.cost))}</title></rect>` +
      `<text x="${(labelWidth + w + 6).toFixed(1)}" y="${y + 16}">${escapeHtml(formatUsd(model.cost))}</text>`
    );
  });
  return (
    `<svg id="model-chart" data-testid="model-chart" role="img" aria-label="Cost by model" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">` +
    `${rows.join('')}</svg>`
  );
}

/** a long model name cut for the chart's label column (the table below has it whole) */
function truncateName(value: string | null): string | null {
  return value === null || value.length <= 40 ? value : `${value.slice(0, 39)}…`;
}

function table(id: string, headers: readonly string[], rows: ReadonlyArray<readonly string[]>, numeric: ReadonlySet<number>): string {
  const head = headers.map((h, i) => `<th${numeric.has(i) ? ' class="num"' : ''}>${escapeHtml(h)}</th>`).join('');
  const body =
    rows.length === 0
      ? `<tr><td colspan="${headers.length}" class="muted">nothing spent</td></tr>`
      : rows.map((cells) => `<tr>${cells.map((cell, i) => `<td${numeric.has(i) ? ' class="num"' : ''}>${cell}</td>`).join('')}</tr>`).join('');
  return `<table id="${id}" data-testid="${id}"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

const usd = (value: number): string => escapeHtml(formatUsd(value));
/** 91,884,348 */
const tokenCount = (value: number): string => value.toLocaleString('en-US');

export interface ReportHtmlOptions {
  /** the page's heading; default "LLM spend" */
  readonly heading?: string;
  /** lines under the heading (a digest sent late says so), HTML-escaped here */
  readonly notes?: readonly string[];
  /**
   * an image of the daily trend to show instead of the inline SVG chart (`cid:trend` in an email,
   * whose clients mostly drop inline SVG); the file stays self-contained without it
   */
  readonly trendImageSrc?: string;
}

export function renderReportHtml(report: Report, options: ReportHtmlOptions = {}): string {
  const { window } = report;
  const trend =
    options.trendImageSrc === undefined
      ? dailyChart(report.daily)
      : `<img id="trend" src="${escapeHtml(options.trendImageSrc)}" alt="Daily spend" width="900" style="max-width:100%;height:auto">`;
  const money = new Set([1]);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>LLM spend ${escapeHtml(window.from)} – ${escapeHtml(window.to)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>${escapeHtml(options.heading ?? 'LLM spend')}</h1>
${(options.notes ?? []).map((note) => `<p><strong>${escapeHtml(note)}</strong></p>\n`).join('')}<p class="muted">${escapeHtml(window.from)} – ${escapeHtml(window.to)}, dates in ${text(window.timezone)}</p>
<section id="total" data-testid="total"><div class="total">${usd(report.total)}</div>
<p class="muted">previous span ${usd(report.previousTotal)} (${escapeHtml(change(report.total, report.previousTotal))})</p></section>
<h2>Daily</h2>
${trend}
${table('daily', ['Date', 'Cost'], report.daily.map((day) => [escapeHtml(day.date), usd(day.cost)]), money)}
<h2>By model</h2>
${modelChart(report.byModel)}
${table('by-model', ['Model', 'Cost', 'Input tokens', 'Output tokens'], report.byModel.map((m) => [text(m.model), usd(m.cost), tokenCount(m.inputTokens), tokenCount(m.outputTokens)]), new Set([1, 2, 3]))}
<h2>By trace name</h2>
${table('by-trace-name', ['Trace name', 'Cost'], report.byTraceName.map((r) => [text(r.traceName), usd(r.cost)]), money)}
<h2>By environment</h2>
${table('by-environment', ['Environment', 'Cost'], report.byEnvironment.map((r) => [text(r.environment), usd(r.cost)]), money)}
<h2>Top traces</h2>
${table('top-traces', ['Trace', 'Cost', 'Name', 'User'], report.topTraces.map((r) => [text(r.traceId), usd(r.cost), text(r.traceName), text(r.userId)]), money)}
<h2>Top users</h2>
${table('top-users', ['User', 'Cost'], report.topUsers.map((r) => [text(r.userId), usd(r.cost)]), money)}
<h2>Budgets</h2>
${table(
  'budgets',
  ['Alert', 'Spend', 'Threshold', 'Forecast', 'Window'],
  report.budgets.map((b) => [text(budgetName(b.alert, b.group)), usd(b.spend), usd(b.threshold), b.forecast === null ? 'no forecast' : usd(b.forecast), escapeHtml(b.window)]),
  new Set([1, 2, 3]),
)}
</body>
</html>
`;
}
