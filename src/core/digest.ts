// Digests (PRODUCT.md, "Commands"): a report sent on a schedule, as its own notification through
// the same outbox as alerts. Pure: the window a scheduled time reports on, and the notification
// that carries the report.
import type { Notification } from './notification.js';
import { rangesOf, reportRanges, type Report, type ReportRanges, type ReportWindow } from './report.js';
import { parseWindow, periodStart } from './time/windows.js';

/** What a digest notification carries besides the common fields. */
export interface DigestPayload {
  readonly name: string;
  /** ISO 8601 UTC: the scheduled time it was made for */
  readonly scheduledFor: string;
  readonly report: Report;
}

export interface DigestNotification extends Notification {
  readonly kind: 'digest';
  readonly digest: DigestPayload;
}

export function isDigest(notification: Notification): notification is DigestNotification {
  return notification.kind === 'digest' && notification.digest !== undefined;
}

/** `digest|<name>|<scheduled time ISO UTC>`: the same scheduled time is the same notification, sent once. */
export function digestNotificationId(name: string, scheduledFor: Date): string {
  return `digest|${name}|${scheduledFor.toISOString()}`;
}

/**
 * The ranges a digest made for `scheduledFor` reports on: `7d` / `30d` end at the scheduled time;
 * `day` / `week` / `month` are the last complete period before it, compared with the one before that.
 */
export function digestRanges(window: ReportWindow, scheduledFor: Date, timezone: string): ReportRanges {
  const spec = parseWindow(window);
  if (spec.kind === 'rolling') return reportRanges(window, scheduledFor, timezone);
  const end = periodStart(spec, scheduledFor, timezone);
  const from = periodStart(spec, new Date(end.getTime() - 1), timezone);
  const previousFrom = periodStart(spec, new Date(from.getTime() - 1), timezone);
  return rangesOf({ from, to: end }, { from: previousFrom, to: from }, timezone);
}

export interface DigestMade {
  readonly name: string;
  readonly window: ReportWindow;
  readonly scheduledFor: Date;
  readonly report: Report;
  /** when it was made (the report read) */
  readonly at: Date;
  readonly langfuseUrl: string;
  /** sent for a scheduled time missed while the daemon was down */
  readonly late: boolean;
}

/**
 * The notification of a digest. The alert fields every notification has say what a reader of a
 * generic notification would expect: `value` the total, `baseline` the previous total.
 */
export function digestNotification(made: DigestMade): DigestNotification {
  const { report } = made;
  const scheduledFor = made.scheduledFor.toISOString();
  return {
    id: digestNotificationId(made.name, made.scheduledFor),
    status: 'firing',
    severity: 'warning',
    alert: made.name,
    kind: 'digest',
    group: {},
    window: { type: made.window, from: report.window.from, to: report.window.to, timezone: report.window.timezone },
    value: report.total,
    threshold: 0,
    baseline: report.previousTotal,
    factor: null,
    evaluatedAt: made.at.toISOString(),
    langfuseUrl: made.langfuseUrl,
    digest: { name: made.name, scheduledFor, report },
    ...(made.late ? { delayedSince: scheduledFor } : {}),
  };
}

