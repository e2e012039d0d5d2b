// What the worker remembers between evaluations: per series, what was already notified for its
// current period; per notification, which channels still have to accept it. Keyed by alert name
// and series so that editing an alert's threshold or channels neither resurrects nor loses it.
import type { Severity } from '../config/schema.js';
import type { Notification } from '../notify/notification.js';

export const STATE_VERSION = 1;

export interface SeriesState {
  readonly alert: string;
  readonly seriesKey: string;
  /** {} without groupBy, else {field: value} */
  readonly group: Readonly<Record<string, string | null>>;
  /** calendar: ISO start of the period; rolling: ISO time the open episode started */
  readonly period: string;
  /** severities already notified in this period / episode */
  readonly notified: readonly Severity[];
  /** rolling windows: an episode is open (firing, not yet resolved) */
  readonly open: boolean;
  readonly lastValue: number;
  readonly updatedAt: string;
}

export interface OutboxEntry {
  readonly notification: Notification;
  /** channels that have not accepted it yet */
  readonly pending: readonly string[];
  readonly createdAt: string;
  readonly attempts: number;
  readonly lastError?: string;
}

export interface EvaluationRecord {
  readonly at: string;
  readonly ok: boolean;
  readonly alertsEvaluated: number;
  readonly firing: number;
  readonly notificationsSent: number;
  readonly errors: readonly string[];
}

export interface State {
  readonly version: typeof STATE_VERSION;
  readonly series: Readonly<Record<string, SeriesState>>;
  readonly outbox: Readonly<Record<string, OutboxEntry>>;
  readonly lastEvaluation: EvaluationRecord | null;
  /** resolved once from GET /api/public/projects, for links; keyed by base URL + public key */
  readonly projects: Readonly<Record<string, string>>;
}

export function emptyState(): State {
  return { version: STATE_VERSION, series: {}, outbox: {}, lastEvaluation: null, projects: {} };
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

export class StateFormatError extends Error {
  override name = 'StateFormatError';
}

/** Accepts what an earlier or this version wrote; rejects anything else rather than guessing. */
export function parseState(text: string): State {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new StateFormatError('the state file is not valid JSON');
  }
  if (typeof data !== 'object' || data === null) throw new StateFormatError('the state file is not an object');
  const record = data as Partial<State> & { version?: unknown };
  if (record.version !== STATE_VERSION) {
    throw new StateFormatError(`the state file has version ${String(record.version)}, this build reads ${STATE_VERSION}`);
  }
  return {
    version: STATE_VERSION,
    series: isRecord(record.series) ? record.series : {},
    outbox: isRecord(record.outbox) ? record.outbox : {},
    lastEvaluation: record.lastEvaluation ?? null,
    projects: isRecord(record.projects) ? record.projects : {},
  };
}

function isRecord<T>(value: unknown): value is Record<string, T> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
