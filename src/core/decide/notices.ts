// The worker's own notices: monitoring degraded or recovered, a channel failing, notifications
// that could not be delivered. Same shape as alert notifications (kind "system"), so every channel
// renders them and receivers deduplicate them the same way. Pure.
import type { Severity } from '../alert.js';
import type { PeerHealth } from '../ledger.js';
import type { Notification, NotificationStatus } from '../notification.js';
import { isoSeconds } from './notifications.js';

export const SYSTEM_ALERT = 'spend-alerts';

interface NoticeContext {
  readonly now: Date;
  readonly timezone: string;
  readonly langfuseUrl: string;
}

function notice(
  subject: string,
  since: string,
  severity: Severity,
  status: NotificationStatus,
  message: string,
  context: NoticeContext,
): Notification {
  const at = context.now.toISOString();
  return {
    id: [SYSTEM_ALERT, subject, isoSeconds(since), severity, status].join('|'),
    status,
    severity,
    alert: SYSTEM_ALERT,
    kind: 'system',
    group: {},
    window: { type: 'system', from: since, to: at, timezone: context.timezone },
    value: 0,
    threshold: 0,
    baseline: null,
    factor: null,
    evaluatedAt: at,
    langfuseUrl: context.langfuseUrl,
    message,
  };
}

export function langfuseDegraded(health: PeerHealth, blindAlerts: readonly string[], context: NoticeContext): Notification {
  return notice(
    'langfuse',
    health.since ?? context.now.toISOString(),
    'critical',
    'firing',
    `Monitoring degraded: spend could not be read from Langfuse for ${health.failures} evaluations in a row ` +
      `since ${health.since}. Last error: ${health.lastError}. Blind alerts: ${blindAlerts.join(', ')}.`,
    context,
  );
}

export function langfuseRecovered(health: PeerHealth, context: NoticeContext): Notification {
  return notice(
    'langfuse',
    health.since ?? context.now.toISOString(),
    'critical',
    'resolved',
    `Monitoring recovered: Langfuse answers again (it had failed since ${health.since}). Every alert is evaluated again.`,
    context,
  );
}

export function channelFailing(channel: string, health: PeerHealth, pending: number, context: NoticeContext): Notification {
  return notice(
    `channel=${channel}`,
    health.since ?? context.now.toISOString(),
    'warning',
    'firing',
    `Channel "${channel}" has failed for ${health.failures} evaluations in a row since ${health.since}: ` +
      `${health.lastError}. ${pending} notification(s) wait for it and are retried at every evaluation.`,
    context,
  );
}

export function channelRecovered(channel: string, health: PeerHealth, context: NoticeContext): Notification {
  return notice(
    `channel=${channel}`,
    health.since ?? context.now.toISOString(),
    'warning',
    'resolved',
    `Channel "${channel}" accepts notifications again (it had failed since ${health.since}).`,
    context,
  );
}

export function undeliveredSummary(channel: string, lost: readonly Notification[], context: NoticeContext): Notification {
  const listed = lost
    .slice(0, 10)
    .map((n) => `${n.alert} ${n.severity} ${n.status} (${n.window.from})`)
    .join('; ');
  const more = lost.length > 10 ? `; and ${lost.length - 10} more` : '';
  return notice(
    `undelivered=${channel}`,
    context.now.toISOString(),
    'warning',
    'firing',
    `${lost.length} notification(s) could not be delivered to "${channel}" within 24 hours after their period ended ` +
      `and were dropped: ${listed}${more}.`,
    context,
  );
}
