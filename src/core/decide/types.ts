// What the decisions after an evaluation take and give: plain data, so they are pure functions the
// engine calls with what it fetched and delivered, and tests call with what they choose.
import type { AlertConfig } from '../alert.js';
import type { Notification } from '../notification.js';
import type { SeriesEvaluation } from '../series.js';

export interface EvaluatedAlert {
  readonly alert: AlertConfig;
  readonly series: readonly SeriesEvaluation[];
  readonly final?: boolean;
}

export interface AlertFailure {
  readonly alert: string;
  readonly error: string;
}

export interface DeliveryRecord {
  readonly channel: string;
  readonly channelType: string;
  readonly notificationId: string;
  readonly ok: boolean;
}

export interface DeliveryFailure {
  readonly channel: string;
  readonly notificationIds: readonly string[];
  readonly error: string;
}

/** A notification and the channels it goes to. */
export interface PlannedNotification {
  readonly notification: Notification;
  readonly channels: readonly string[];
}

/** Something a decision wants logged: data, so the decision stays pure and the engine logs it. */
export interface DecisionEvent {
  readonly level: 'info' | 'warn' | 'error';
  readonly fields: Readonly<Record<string, unknown>>;
  readonly message: string;
}

/** Per channel, the notifications to send now. */
export type Deliveries = ReadonlyMap<string, readonly Notification[]>;

/** The tunable part of the decisions; the engine's CheckPolicy extends it with its time limits. */
export interface DecisionPolicy {
  /** consecutive failed evaluations before a "degraded" / "channel failing" notice */
  readonly degradedAfter: number;
  /** where system notices go; null: every channel that still works */
  readonly systemChannels: readonly string[] | null;
  /** a notification delivered later than this after it was decided is marked delayed */
  readonly lateAfterMs: number;
  /**
   * each channel's own bound inside the delivery phase (channels deliver concurrently), so one
   * that hangs can't use up the phase of the others; also how long its deliveries stay claimed
   */
  readonly channelBudgetMs: number;
  /** backoff between attempts of one pending delivery */
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  /**
   * try every pending delivery now, whatever its backoff (a peer's Retry-After still holds): a
   * manual `check` after fixing a channel. Backoff paces the daemon only.
   */
  readonly ignoreBackoff: boolean;
  /** pending notifications are summarised instead of sent this long after their period ended */
  readonly expireAfterMs: number;
}

/** The facts of the configuration and of this process the decisions need, with the policy. */
export interface DecideContext extends DecisionPolicy {
  readonly timezone: string;
  /** the Langfuse project link notifications carry */
  readonly langfuseUrl: string;
  /** the alerts configured now: series of others are forgotten */
  readonly alerts: readonly string[];
  /** the channels configured now: deliveries to others are dropped, system notices go to these */
  readonly channels: readonly string[];
  /**
   * Who claims the deliveries made now, and the wall-clock time of the claim: claims hold against
   * other processes in real time, while `now` may be the minute an evaluation is for.
   */
  readonly claim: { readonly by: string; readonly at: Date };
}
