// What the worker remembers between evaluations: per series, what was already notified for its
// current period; per notification, which channels still have to accept it. Keyed by alert name
// and series so that editing an alert's threshold or channels neither resurrects nor loses it.
import type { Severity } from '../config/schema.js';
import type { Notification } from '../notify/notification.js';
import type { Refusal } from '../planner/budget.js';

export const STATE_VERSION = 1;

export interface NotifiedPeriod {
  /** calendar: ISO start of the period; rolling: ISO time the episode started */
  readonly period: string;
  /** severities already notified in it */
  readonly notified: readonly Severity[];
}

export interface SeriesState extends NotifiedPeriod {
  readonly alert: string;
  readonly seriesKey: string;
  /** {} without groupBy, else {field: value} */
  readonly group: Readonly<Record<string, string | null>>;
  /** rolling windows: an episode is open (firing, not yet resolved) */
  readonly open: boolean;
  readonly lastValue: number;
  readonly updatedAt: string;
  /** calendar windows: the period before this one, for its final check once late data is in */
  readonly previous?: NotifiedPeriod;
}

/** One channel that has not accepted a notification yet. */
export interface PendingDelivery {
  /** failed attempts so far */
  readonly attempts: number;
  /** not retried before this time (backoff) */
  readonly nextAttemptAt: string;
  readonly lastError?: string;
  /** the peer asked (Retry-After) not to be tried before this time: even a `check` waits for it */
  readonly notBefore?: string;
  /** a process that is sending it right now, and until when that claim holds */
  readonly claimedBy?: string;
  readonly claimedUntil?: string;
}

export interface OutboxEntry {
  readonly notification: Notification;
  readonly createdAt: string;
  /** 24 h after the notification's period ended: then it is summarised instead of sent; null: never */
  readonly expiresAt: string | null;
  /** channels that have not accepted it yet */
  readonly channels: Readonly<Record<string, PendingDelivery>>;
}

export interface EvaluationRecord {
  readonly at: string;
  readonly ok: boolean;
  readonly alertsEvaluated: number;
  readonly firing: number;
  readonly notificationsSent: number;
  readonly errors: readonly string[];
}

/** A peer (Langfuse, or one channel) that keeps failing: what we told people about it. */
export interface PeerHealth {
  /** consecutive evaluations that failed */
  readonly failures: number;
  readonly since: string | null;
  readonly lastError: string | null;
  /** a "degraded" notice was sent and no "recovered" yet */
  readonly noticeSent: boolean;
}

/** An evaluation the daemon skipped to stay within the Langfuse request budget. */
export interface Deferral {
  readonly at: string;
  /** `pace` or `limit`: the budget stretched the schedule; `rate-limited`: Langfuse's 429 pause */
  readonly kind: Refusal;
  /** the earliest time the budget allows the next evaluation */
  readonly retryAt: string;
  readonly reason: string;
}

export interface State {
  readonly version: typeof STATE_VERSION;
  readonly series: Readonly<Record<string, SeriesState>>;
  readonly outbox: Readonly<Record<string, OutboxEntry>>;
  readonly lastEvaluation: EvaluationRecord | null;
  /** resolved once from GET /api/public/projects, for links; keyed by base URL + public key */
  readonly projects: Readonly<Record<string, string>>;
  readonly langfuse: PeerHealth & {
    /** Langfuse asked (Retry-After) not to be queried before this time */
    readonly blockedUntil: string | null;
  };
  readonly channels: Readonly<Record<string, PeerHealth>>;
  /** per calendar alert: ISO start of the last period whose final value was checked */
  readonly finalized: Readonly<Record<string, string>>;
  /** the daemon's last deferral by the request budget; absent until there was one */
  readonly lastDeferral?: Deferral;
}

export const HEALTHY: PeerHealth = { failures: 0, since: null, lastError: null, noticeSent: false };

export function emptyState(): State {
  return {
    version: STATE_VERSION,
    series: {},
    outbox: {},
    lastEvaluation: null,
    projects: {},
    langfuse: { ...HEALTHY, blockedUntil: null },
    channels: {},
    finalized: {},
  };
}

export function seriesStateKey(alert: string, seriesKey: string): string {
  return `${alert}|${seriesKey}`;
}

/** Forgets series of alerts that no longer exist: a renamed alert is a new one. */
export function pruneRemovedAlerts(
  series: Readonly<Record<string, SeriesState>>,
  alertNames: ReadonlySet<string>,
): Record<string, SeriesState> {
  return Object.fromEntries(Object.entries(series).filter(([, value]) => alertNames.has(value.alert)));
}

/** The file is damaged: it can be moved aside and the worker can start afresh. */
export class StateCorruptError extends Error {
  override name = 'StateCorruptError';
}

/** The file is intact but of a version this build doesn't know: moving it aside would lose it. */
export class StateVersionError extends Error {
  override name = 'StateVersionError';
}

export function parseState(text: string): State {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new StateCorruptError('the state file is not valid JSON');
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new StateCorruptError('the state file is not a JSON object');
  }
  const record = data as Partial<State> & { version?: unknown };
  if (record.version !== STATE_VERSION) {
    throw new StateVersionError(
      `the state file has version ${String(record.version)}; this build reads version ${STATE_VERSION} ` +
        '(after a downgrade, restore the state directory of this version or move the file away)',
    );
  }
  const empty = emptyState();
  return {
    version: STATE_VERSION,
    series: isRecord(record.series) ? record.series : empty.series,
    outbox: isRecord(record.outbox) ? record.outbox : empty.outbox,
    lastEvaluation: record.lastEvaluation ?? null,
    projects: isRecord(record.projects) ? record.projects : empty.projects,
    langfuse: isRecord(record.langfuse) ? { ...empty.langfuse, ...record.langfuse } : empty.langfuse,
    channels: isRecord(record.channels) ? record.channels : empty.channels,
    finalized: isRecord(record.finalized) ? record.finalized : empty.finalized,
    ...(isRecord(record.lastDeferral) ? { lastDeferral: record.lastDeferral as unknown as Deferral } : {}),
  };
}

function isRecord<T>(value: unknown): value is Record<string, T> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
