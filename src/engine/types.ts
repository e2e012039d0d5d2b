// The pipeline's inputs, policy and what it reports, shared by its modules.
import type { Channel } from '../channels/channel.js';
import type { DeliverOptions } from '../channels/deliver.js';
import type { AlertConfig, Config } from '../config/schema.js';
import type { SeriesEvaluation } from '../core/series.js';
import type { Logger } from '../log/logger.js';
import type { Notification } from '../core/notification.js';
import type { PlannedNotification } from '../core/decide/notifications.js';
import type { SpendSource } from '../core/query.js';
import type { State } from '../core/ledger.js';
import type { StateStore } from '../storage/state-store.js';
import type { StartTimer } from '../util/deadline.js';

export interface CheckPolicy {
  /** Langfuse may lag this long: a closed calendar period gets its final check that long after */
  readonly lagMarginMs: number;
  /** consecutive failed evaluations before a "degraded" / "channel failing" notice */
  readonly degradedAfter: number;
  /** where system notices go; null: every channel that still works */
  readonly systemChannels: readonly string[] | null;
  /** a notification delivered later than this after it was decided is marked delayed */
  readonly lateAfterMs: number;
  /** bounds for the phases, so a stuck peer can't hold the worker */
  readonly fetchBudgetMs: number;
  readonly deliveryBudgetMs: number;
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

export const DEFAULT_POLICY: CheckPolicy = {
  lagMarginMs: 15 * 60_000,
  degradedAfter: 3,
  systemChannels: null,
  lateAfterMs: 15 * 60_000,
  fetchBudgetMs: 120_000,
  deliveryBudgetMs: 90_000,
  channelBudgetMs: 30_000,
  retryBaseMs: 60_000,
  retryMaxMs: 3_600_000,
  ignoreBackoff: false,
  expireAfterMs: 24 * 3_600_000,
};

export interface CheckInput {
  readonly config: Config;
  /** the alerts to evaluate now (all, or those due, or --alert) */
  readonly alerts: readonly AlertConfig[];
  readonly source: SpendSource;
  readonly channels: ReadonlyMap<string, Channel>;
  readonly store: StateStore;
  /** evaluate and plan only: nothing is sent, nothing is written */
  readonly dryRun?: boolean;
  readonly now: Date;
  readonly langfuseUrl: string;
  readonly log: Logger;
  /**
   * Every error string passes this before it is logged, stored in the state (lastEvaluation,
   * Langfuse and channel health, the outbox) or reported: the state is an output too.
   */
  readonly redact: (text: string) => string;
  readonly deliveryOptions?: Omit<DeliverOptions, 'redact'>;
  readonly signal?: AbortSignal;
  readonly policy?: Partial<CheckPolicy>;
  /**
   * the wall clock for claims on deliveries, which must hold against other processes in real time
   * (`now` may be the minute an evaluation is for, and fetching takes a while); default the system clock
   */
  readonly clock?: () => Date;
  /** starts the delivery phase's and each channel's time limit (injectable for tests) */
  readonly startTimer?: StartTimer;
}

export interface AlertFailure {
  readonly alert: string;
  readonly error: string;
}

/** Alerts not evaluated yet because the request budget lets their history come in over several evaluations. */
export interface WaitingAlerts {
  readonly alerts: readonly string[];
  /** about how many more evaluations until they are evaluated */
  readonly evaluations: number;
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

export interface EvaluatedAlert {
  readonly alert: AlertConfig;
  readonly series: readonly SeriesEvaluation[];
  readonly final?: boolean;
}

export interface CheckReport {
  /** regular evaluations (final checks of closed periods are not included) */
  readonly evaluations: readonly EvaluatedAlert[];
  readonly alertFailures: readonly AlertFailure[];
  /** alerts waiting for their history (neither evaluated nor failed); null when none */
  readonly waiting: WaitingAlerts | null;
  /** notifications decided by this evaluation, system notices included */
  readonly planned: readonly PlannedNotification[];
  /** per channel, what it was asked to deliver now (new and earlier pending), or would be in a dry run */
  readonly pendingByChannel: ReadonlyMap<string, readonly Notification[]>;
  readonly delivered: number;
  readonly deliveries: readonly DeliveryRecord[];
  readonly deliveryFailures: readonly DeliveryFailure[];
  readonly state: State;
}
