// Plain text for terminals and the text part of emails: one block per notification, most severe
// first, labels aligned. Top contributors follow as one line per dimension, without their links: three
// Langfuse addresses of a few hundred characters would bury the line (the HTML part, Slack and the
// webhook body carry them).
import type { Notification } from '../core/notification.js';
import { bySeverity, contributorText, countSummary, notificationText } from './text.js';

const LABEL_WIDTH = 'Threshold: '.length;

export function renderNotificationPlain(n: Notification): string {
  const view = notificationText(n);
  const lines = view.lines.map((line) => {
    const label = `${line.label}:`.padEnd(LABEL_WIDTH);
    const value = (line.href ?? line.value).replace(/\n/g, `\n  ${' '.repeat(LABEL_WIDTH)}`);
    return `  ${label}${value}`;
  });
  const contributors = view.contributors.map((line) => `  ${line.label}: ${contributorText(line)}`);
  return [view.title, ...lines, ...contributors].join('\n');
}

/** Several notifications start with a line counting them by severity. */
export function renderPlain(notifications: readonly Notification[]): string {
  const blocks = bySeverity(notifications).map(renderNotificationPlain);
  if (blocks.length > 1) blocks.unshift(`${blocks.length} spend alerts: ${countSummary(notifications)}`);
  return blocks.join('\n\n');
}
