// A digest (a report sent on a schedule) as each channel shows it: a plain-text report for the
// console and the email's text part, an HTML report for the email (the report's own page, its
// trend an inline image when one is given), Slack mrkdwn with a sparkline, and the webhook body of
// PRODUCT.md. Traced values (models, traces, users) are escaped for each medium, as alerts are.
import type { DigestNotification } from '../core/digest.js';
import type { Report } from '../core/report.js';
import { formatUsd } from './money.js';
import { budgetName } from './report/csv.js';
import { renderReportHtml } from './report/html.js';
import { changeText, renderReportTable, sparkline } from './report/table.js';
import { clipMrkdwn, escapeSlack, SLACK_LIMITS, type SlackBlock, type SlackMessage } from './slack.js';
import { cleanLine, formatInstant, formatWindow } from './text.js';

const MAX_SUBJECT_CHARS = 200;
/** the Content-ID of the trend image: the HTML part shows it as `cid:trend` */
export const TREND_CONTENT_ID = 'trend';

export interface DigestWebhookBody {
  readonly version: '1';
  readonly id: string;
  readonly kind: 'digest';
  readonly digest: string;
  readonly report: Report;
  /** present when it was sent late (a scheduled time missed while the daemon was down, or retried): when it was due */
  readonly delayedSince?: string;
}

export function digestWebhookBody(n: DigestNotification): DigestWebhookBody {
  return {
    version: '1',
    id: n.id,
    kind: 'digest',
    digest: n.digest.name,
    report: n.digest.report,
    ...(n.delayedSince === undefined ? {} : { delayedSince: n.delayedSince }),
  };
}

/** "weekly: $1,234.50 (+12.3%)" */
function headline(n: DigestNotification): string {
  const { report } = n.digest;
  return `${n.digest.name}: ${formatUsd(report.total)} (${changeText(report.total, report.previousTotal)})`;
}

/** "Sent late: it was due 2026-11-30 09:00 UTC." when it was; nothing otherwise */
function lateNote(n: DigestNotification): string[] {
  return n.delayedSince === undefined ? [] : [`Sent late: it was due ${formatInstant(n.delayedSince, n.window.timezone)}.`];
}

/** "[DIGEST] weekly: $1,234.50 (+12.3%), week, 2026-11-23 00:00 – 2026-11-30 00:00 UTC" */
export function digestSubject(n: DigestNotification): string {
  return cleanLine(`[DIGEST] ${headline(n)}, ${formatWindow(n.window)}`, MAX_SUBJECT_CHARS).replace(/\s+/g, ' ').trim();
}

export function renderDigestPlain(n: DigestNotification): string {
  return [`Spend digest ${headline(n)}`, ...lateNote(n), '', renderReportTable(n.digest.report, { colour: false })].join('\n');
}

export interface DigestEmail {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

/**
 * `chart.png`: the daily trend as a PNG the email attaches with Content-ID TREND_CONTENT_ID; the
 * HTML then shows it in place of the SVG chart (which most mail clients drop).
 */
export function renderDigestEmail(n: DigestNotification, chart: { readonly png?: Buffer } = {}): DigestEmail {
  const html = renderReportHtml(n.digest.report, {
    heading: `Spend digest ${headline(n)}`,
    notes: lateNote(n),
    ...(chart.png === undefined ? {} : { trendImageSrc: `cid:${TREND_CONTENT_ID}` }),
  });
  return {
    subject: digestSubject(n),
    text: `${renderDigestPlain(n)}\n-- \nSent by langfuse-spend-alerts.\n`,
    html: html.replace('</body>', '<p style="margin-top:24px;color:#6b6b6b;font-size:12px">Sent by langfuse-spend-alerts.</p>\n</body>'),
  };
}

const nameOf = (value: string | null): string => (value === null ? '(none)' : cleanLine(value, 200));

/** "*Top models:* gpt-4o $40.00, claude $12.00" with every name escaped; nothing when the list is empty */
function listLine(label: string, rows: ReadonlyArray<{ name: string; cost: number }>): string[] {
  if (rows.length === 0) return [];
  return [`*${label}:* ${rows.map((row) => `${escapeSlack(row.name)} ${escapeSlack(formatUsd(row.cost))}`).join(', ')}`];
}

/** "62% of $500.00 spent, forecast $640.00" */
function burnDown(budget: Report['budgets'][number]): string {
  const used = budget.threshold > 0 ? `${Math.round((budget.spend / budget.threshold) * 100)}% of ${formatUsd(budget.threshold)}` : `of ${formatUsd(budget.threshold)}`;
  const forecast = budget.forecast === null ? 'no forecast' : `forecast ${formatUsd(budget.forecast)}`;
  return `${formatUsd(budget.spend)} spent this ${budget.window}, ${used}, ${forecast}`;
}

/** The header, the totals and trend, the top lists, and the budgets' burn-down, each section within Slack's limits. */
export function renderSlackDigest(n: DigestNotification): SlackMessage {
  const { report } = n.digest;
  const days = report.daily;
  const trend =
    days.length === 0 ? [] : [`*Daily:* \`${sparkline(days.map((day) => day.cost))}\` ${escapeSlack(`${days[0]!.date} – ${days[days.length - 1]!.date}`)}`];
  const summary = [
    `*Total:* ${escapeSlack(formatUsd(report.total))} (previous span ${escapeSlack(formatUsd(report.previousTotal))}, ${escapeSlack(changeText(report.total, report.previousTotal))})`,
    ...trend,
    `*Window:* ${escapeSlack(formatWindow(n.window))}`,
    ...lateNote(n).map((note) => `*Late:* ${escapeSlack(note)}`),
  ];
  const tops = [
    ...listLine('Top models', report.byModel.map((row) => ({ name: nameOf(row.model), cost: row.cost }))),
    ...listLine('Top traces', report.topTraces.map((row) => ({ name: `${nameOf(row.traceName)} (${cleanLine(row.traceId, 100)})`, cost: row.cost }))),
    ...listLine('Top users', report.topUsers.map((row) => ({ name: nameOf(row.userId), cost: row.cost }))),
  ];
  const budgets = report.budgets.map((budget) => `• ${escapeSlack(cleanLine(budgetName(budget.alert, budget.group), 200))}: ${escapeSlack(burnDown(budget))}`);
  const section = (lines: readonly string[]): SlackBlock => ({
    type: 'section',
    text: { type: 'mrkdwn', text: clipMrkdwn(lines.join('\n'), SLACK_LIMITS.sectionChars), verbatim: true },
  });
  const title = `📊 Spend digest ${headline(n)}`;
  return {
    text: escapeSlack(title),
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: clipMrkdwn(escapeSlack(title), SLACK_LIMITS.headerChars), emoji: true } },
      section(summary),
      ...(tops.length === 0 ? [] : [section(tops)]),
      section(budgets.length === 0 ? ['*Budgets:* no calendar threshold or forecast alert'] : ['*Budgets:*', ...budgets]),
    ],
  };
}

