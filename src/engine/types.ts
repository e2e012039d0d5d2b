// The engine's inputs, policy and what it reports, shared by its modules.
import type { Channel } from '../channels/channel.js';
import type { DeliverOptions } from '../channels/deliver.js';
import type { AlertConfig, Config } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import type { Notification } from '../core/notification.js';
import type { AlertFailure, DecisionPolicy, DeliveryFailure, DeliveryRecord, EvaluatedAlert, PlannedNotification } from '../core/decide/index.js';
import type { SpendSource } from '../core/query.js';
import type { State } from '../core/ledger.js';
import type { Admission } from '../sources/langfuse/planner/index.js';
import type { StateStore } from '../storage/state-store.js';
import type { StartTimer } from '../util/deadline.js';

export type { AlertFailure, DeliveryFailure, DeliveryRecord, EvaluatedAlert } from '../core/decide/index.js';

export interface CheckPolicy extends DecisionPolicy {
  /** Langfuse may lag this long: a closed calendar period gets its final check that long after */
  readonly lagMarginMs: number;
  /** bounds for the phases, so a stuck peer can't hold the worker */
  readonly fetchBudgetMs: number;
  readonly deliveryBudgetMs: number;
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

/** The request quota's say before an evaluation. */
export interface AdmissionDeps {
  /** whether the request budget lets these alerts be evaluated now */
  admit(alerts: readonly AlertConfig[], now: Date): Promise<Admission>;
  /**
   * An evaluation the daemon's schedule asked for: the budget's pace defers it too, and the
   * deferral is logged and recorded for `status`. Otherwise (a manual check) only a limit or a 429
   * pause refuses it, and over the pace it runs anyway.
   */
  readonly scheduled: boolean;
}

/** What one evaluation runs on. */
export interface TickDeps {
  readonly config: Config;
  /** the alerts to evaluate now (all, or those due, or --alert) */
  readonly alerts: readonly AlertConfig[];
  readonly source: SpendSource;
  readonly channels: ReadonlyMap<string, Channel>;
  readonly store: StateStore;
  /** absent: no request quota to ask (the demo, tests) */
  readonly admission?: AdmissionDeps;
  /** evaluate and plan only: nothing is sent, nothing is written */
  readonly dryRun?: boolean;
  /** the project link for notifications, or how to resolve it once the evaluation is admitted */
  readonly langfuseUrl: string | (() => Promise<string>);
  /** Langfuse requests made so far by this process, for the summary line; absent: not counted */
  readonly langfuseRequests?: () => number;
  readonly log: Logger;
  /**
   * Every error string passes this before it is logged, stored in the state (evaluations,
   * Langfuse and channel health, the outbox) or reported: the state is an output too.
   */
  readonly redact: (text: string) => string;
  readonly deliveryOptions?: Omit<DeliverOptions, 'redact'>;
  readonly signal?: AbortSignal;
  readonly policy?: Partial<CheckPolicy>;
  /**
   * the wall clock: how long the evaluation took, and the time of claims on deliveries, which
   * must hold against other processes in real time (`now` may be the minute an evaluation is for)
   */
  readonly clock: () => Date;
  /** starts the delivery phase's and each channel's time limit (injectable for tests) */
  readonly startTimer?: StartTimer;
}

/** Alerts not evaluated yet because the request budget lets their history come in over several evaluations. */
export interface WaitingAlerts {
  readonly alerts: readonly string[];
  /** about how many more evaluations until they are evaluated */
  readonly evaluations: number;
}

export interface CheckReport {
  readonly kind: 'evaluated';
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
  /** how long the evaluation took, admission included, by `clock` */
  readonly ms: number;
  /** `clock` when it finished */
  readonly finishedAt: Date;
}

/** The request quota refused the evaluation: nothing was fetched. */
export interface DeferredReport {
  readonly kind: 'deferred';
  readonly admission: Extract<Admission, { ok: false }>;
}

export type TickReport = CheckReport | DeferredReport;
