// A notification as every channel sees it. It mirrors the webhook body of PRODUCT.md so that the
// webhook channel adds only `version` and `currency`.
import type { Severity } from './alert.js';
import type { RuleKey } from './rules/index.js';

export type NotificationStatus = 'firing' | 'resolved';
/** the rule kind of an alert's notification; `system` for the worker's own notices */
export type NotificationKind = RuleKey | 'system';

export interface NotificationWindow {
  /** the alert's window as configured: day | week | month | 24h | 7d … */
  readonly type: string;
  /** ISO 8601 UTC instants; `to` is the evaluation time for an open window */
  readonly from: string;
  readonly to: string;
  readonly timezone: string;
}

export interface NotificationTrace {
  readonly id: string;
  readonly name: string | null;
  readonly userId: string | null;
}

/** The page of one trace in the Langfuse UI, when the project link is known (`<base>/project/<id>`). */
export function traceUrlOf(langfuseUrl: string, traceId: string): string | null {
  return /\/project\/[^/]+$/.test(langfuseUrl) ? `${langfuseUrl}/traces/${encodeURIComponent(traceId)}` : null;
}

export interface Notification {
  /** opaque, stable for the same notification: alert|group|period|severity|status */
  readonly id: string;
  readonly status: NotificationStatus;
  readonly severity: Severity;
  readonly alert: string;
  readonly kind: NotificationKind;
  /** {} without groupBy; {model: null} for a series Langfuse reports as null */
  readonly group: Readonly<Record<string, string | null>>;
  readonly window: NotificationWindow;
  /** USD */
  readonly value: number;
  /** USD: the level the value was compared with (relative: factor × baseline) */
  readonly threshold: number;
  readonly baseline: number | null;
  readonly factor: number | null;
  /** budget steps: the step crossed, a percent of the budget (`threshold` is its amount) */
  readonly step?: number;
  /** forecast alerts: the projected total (USD), the share of a window usually spent by now, and when the budget goes */
  readonly forecast?: number;
  readonly share?: number;
  readonly crossesAt?: string | null;
  readonly evaluatedAt: string;
  readonly langfuseUrl: string;
  /** perTrace: the runaway trace, its name and user as Langfuse reported them (null where it has none) */
  readonly trace?: NotificationTrace;
  /** perTrace: `<langfuseUrl>/traces/<traceId>`; null when the project id isn't known */
  readonly traceUrl?: string | null;
  /** system notices and test notifications */
  readonly message?: string;
  /** set by test-notify: rendered with a clear TEST marker */
  readonly test?: boolean;
  /** set when it arrives late (retried past one schedule interval): when it was first due */
  readonly delayedSince?: string;
}
