// A notification as every channel sees it. It mirrors the webhook body of PRODUCT.md so that the
// webhook channel adds only `version` and `currency`.
import type { GroupByField, Severity } from './alert.js';
import { isProjectUrl } from './langfuse-links.js';
import type { TokenUsage } from './query.js';
import type { RuleKey } from './rules/index.js';
import type { DigestPayload } from './digest.js';

export type NotificationStatus = 'firing' | 'resolved';
/** the rule kind of an alert's notification; `system` for the worker's own notices; `digest` for a scheduled report */
export type NotificationKind = RuleKey | 'system' | 'digest';

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
  return isProjectUrl(langfuseUrl) ? `${langfuseUrl}/traces/${encodeURIComponent(traceId)}` : null;
}

/**
 * One of a firing notification's top contributors: a value of one `explain` dimension that spent
 * the most of the series' spend in the window (PRODUCT.md, "Why it fired").
 */
export interface Contributor {
  readonly dimension: GroupByField;
  /** null: the group Langfuse reports as null (no model, no user …) */
  readonly value: string | null;
  /** USD in the window, within the series */
  readonly spend: number;
  /** spend ÷ the series' spend */
  readonly share: number;
  /** USD over the alert's baseline (relative: the mean of its baseline windows; else the previous window to the same point); null without one */
  readonly baseline: number | null;
  /** spend − baseline; null without a baseline */
  readonly change: number | null;
  /** Langfuse's traces (or, with a model, observations) list filtered to the value, the series' group and the alert's filters, over the window; null for a null value or without the project id */
  readonly url: string | null;
}

/** A dimension of `explain` whose contributors could not be worked out in time, and why (the notification says so). */
export interface MissingContributors {
  readonly dimension: GroupByField;
  /** e.g. `the request budget admits no more Langfuse requests until 13:40` */
  readonly reason: string;
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
  /** USD: the level the value was compared with (relative: factor × baseline); null when the rule compares no spend (unpriced) */
  readonly threshold: number | null;
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
  /** unpriced: the model's tokens in the window */
  readonly tokens?: TokenUsage;
  /** firing threshold, relative and forecast notifications: the top contributors, by dimension in `explain` order, most spend first */
  readonly contributors?: readonly Contributor[];
  /** dimensions of `explain` left out of `contributors` (the request budget, a failed request) */
  readonly contributorsMissing?: readonly MissingContributors[];
  /** system notices and test notifications; unpriced: what to add to alerts.yaml */
  readonly message?: string;
  /** set by test-notify: rendered with a clear TEST marker */
  readonly test?: boolean;
  /** digests only: the digest's name, its scheduled time and the report */
  readonly digest?: DigestPayload;
  /** set when it arrives late (retried past one schedule interval): when it was first due */
  readonly delayedSince?: string;
}
