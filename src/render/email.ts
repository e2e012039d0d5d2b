// Email: a subject that says what happened without opening the message, a plain-text part and an
// HTML part. The subject is built from data, so it is one line with no control characters: a
// model name carrying "\r\nBcc: …" must stay text and never become a header.
import type { Notification } from '../core/notification.js';
import { renderPlain } from './plain.js';
import { bySeverity, cleanLine, comparison, countSummary, notificationText, groupLabel, type ContributorLine } from './text.js';

export interface EmailContent {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

const MAX_SUBJECT_CHARS = 200;

export function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/**
 * One notification: "[CRITICAL] daily-budget: $61.25 > $50.00",
 * "[RESOLVED] model-budget (model=gpt-4o): $17.00 ≤ $20.00", "[WARNING] spend-alerts: <message>".
 * Several: "[spend-alerts] 3 alerts: 2 critical, 1 warning". Test notifications start with "[TEST]".
 */
export function emailSubject(notifications: readonly Notification[]): string {
  const testPrefix = notifications.length > 0 && notifications.every((n) => n.test) ? '[TEST] ' : '';
  const [only] = notifications;
  let subject: string;
  if (notifications.length === 1 && only !== undefined) {
    const tag = only.status === 'resolved' ? 'RESOLVED' : only.severity.toUpperCase();
    const group = groupLabel(only.group);
    const detail = comparison(only) ?? only.message ?? only.status;
    subject = `[${tag}] ${only.alert}${group === null ? '' : ` (${group})`}: ${detail}`;
  } else {
    subject = `[spend-alerts] ${notifications.length} alerts: ${countSummary(notifications)}`;
  }
  return cleanLine(`${testPrefix}${subject}`, MAX_SUBJECT_CHARS).replace(/\s+/g, ' ').trim();
}

const COLOURS = { critical: '#b3261e', warning: '#b26a00', resolved: '#1e7d32' } as const;

function row(label: string, valueHtml: string): string {
  return `<tr><th align="left" style="padding:2px 12px 2px 0;vertical-align:top">${escapeHtml(label)}</th><td style="padding:2px 0">${valueHtml}</td></tr>`;
}

/** "<a href=…>gpt-4o</a> $40.00 (65%, +$30.00 on $10.00), …" */
function contributorsHtml(line: ContributorLine): string {
  if (line.unavailable !== undefined) return escapeHtml(line.unavailable);
  return line.items
    .map((item) => {
      const name = item.href === undefined ? escapeHtml(item.name) : `<a href="${escapeHtml(item.href)}">${escapeHtml(item.name)}</a>`;
      return `${name} ${escapeHtml(item.figures)}`;
    })
    .join(', ');
}

function htmlNotification(n: Notification): string {
  const view = notificationText(n);
  const colour = n.status === 'resolved' ? COLOURS.resolved : COLOURS[n.severity];
  const rows = view.lines.map((line) => {
    const value =
      line.href !== undefined && /^https?:\/\//i.test(line.href)
        ? `<a href="${escapeHtml(line.href)}">${escapeHtml(line.value)}</a>`
        : escapeHtml(line.href ?? line.value).replace(/\n/g, '<br>');
    return row(line.label, value);
  });
  rows.push(...view.contributors.map((line) => row(line.label, contributorsHtml(line))));
  return [
    `<h3 style="margin:16px 0 4px;color:${colour}">${escapeHtml(view.title)}</h3>`,
    `<table cellspacing="0" cellpadding="0" style="border-collapse:collapse">${rows.join('')}</table>`,
  ].join('\n');
}

export function renderEmail(notifications: readonly Notification[]): EmailContent {
  const sorted = bySeverity(notifications);
  const heading =
    sorted.length > 1 ? `<h2 style="margin:0 0 8px">${escapeHtml(`${sorted.length} spend alerts: ${countSummary(sorted)}`)}</h2>\n` : '';
  const html = [
    '<!doctype html>',
    '<html><body style="font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;font-size:14px;color:#1f1f1f">',
    `${heading}${sorted.map(htmlNotification).join('\n')}`,
    '<p style="margin-top:24px;color:#6b6b6b;font-size:12px">Sent by langfuse-spend-alerts.</p>',
    '</body></html>',
  ].join('\n');
  return {
    subject: emailSubject(sorted),
    text: `${renderPlain(sorted)}\n\n-- \nSent by langfuse-spend-alerts.\n`,
    html,
  };
}
