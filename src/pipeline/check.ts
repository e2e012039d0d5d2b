// One evaluation of a set of alerts: fetch → evaluate (pure) → plan (pure) → record → deliver →
// record. State is written before anything is sent, so a crash can repeat at most the one
// notification that was in flight on one channel, and never lose one.
import type { AlertConfig, Config } from '../config/schema.js';
import type { Channel } from '../channels/channel.js';
import { deliver, type DeliverOptions } from '../channels/deliver.js';
import { evaluateAlert, neededRanges } from '../evaluate/evaluate.js';
import type { SeriesEvaluation } from '../evaluate/series.js';
import type { Logger } from '../log/logger.js';
import type { Notification } from '../notify/notification.js';
import { planNotifications, type PlannedNotification } from '../notify/plan.js';
import type { SpendQuery, SpendReading, SpendSource } from '../spend/source.js';
import { pruneRemovedAlerts, type OutboxEntry, type State } from '../state/state.js';

export interface CheckInput {
  readonly config: Config;
  /** the alerts to evaluate now (all, or those due, or --alert) */
  readonly alerts: readonly AlertConfig[];
  readonly source: SpendSource;
  readonly channels: ReadonlyMap<string, Channel>;
  readonly state: State;
  readonly save: (state: State) => Promise<void>;
  /** evaluate and plan only: nothing is sent, nothing is written */
  readonly dryRun?: boolean;
  readonly now: Date;
  readonly langfuseUrl: string;
  readonly log: Logger;
  readonly deliveryOptions?: DeliverOptions;
  readonly signal?: AbortSignal;
}

export interface AlertFailure {
  readonly alert: string;
  readonly error: string;
}

export interface DeliveryFailure {
  readonly channel: string;
  readonly notificationIds: readonly string[];
  readonly error: string;
}

export interface DeliveryRecord {
  readonly channel: string;
  readonly channelType: string;
  readonly notificationId: string;
  readonly ok: boolean;
}

export interface CheckReport {
  readonly evaluations: ReadonlyArray<{ alert: AlertConfig; series: readonly SeriesEvaluation[] }>;
  readonly alertFailures: readonly AlertFailure[];
  /** notifications decided by this evaluation */
  readonly planned: readonly PlannedNotification[];
  /** per channel, what it was asked to deliver now (new and earlier pending) */
  readonly pendingByChannel: ReadonlyMap<string, readonly Notification[]>;
  readonly delivered: number;
  /** one entry per notification per channel attempted now */
  readonly deliveries: readonly DeliveryRecord[];
  readonly deliveryFailures: readonly DeliveryFailure[];
  readonly state: State;
}

export async function runCheck(input: CheckInput): Promise<CheckReport> {
  const alertFailures: AlertFailure[] = [];
  const evaluations: Array<{ alert: AlertConfig; series: SeriesEvaluation[] }> = [];
  const requests = input.alerts.map((alert) => ({ alert, ranges: neededRanges(alert, input.now, input.config.timezone) }));
  const queries = requests.flatMap(({ alert, ranges }) =>
    [ranges.current, ...ranges.baselines].map(
      (range): SpendQuery => ({ filters: alert.filters ?? {}, groupBy: alert.groupBy, top: alert.top, from: range.from, to: range.to }),
    ),
  );
  const results = await input.source.spendAll(queries, input.signal);
  let next = 0;
  for (const { alert, ranges } of requests) {
    const mine = results.slice(next, (next += 1 + ranges.baselines.length));
    const failed = mine.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      const message = failed.reason instanceof Error ? failed.reason.message : String(failed.reason);
      alertFailures.push({ alert: alert.name, error: message });
      input.log.error({ alert: alert.name, err: message }, `alert ${alert.name} could not be evaluated: ${message}`);
      continue;
    }
    const [current, ...baselines] = mine.map((r) => (r as PromiseFulfilledResult<SpendReading>).value);
    evaluations.push({ alert, series: evaluateAlert(alert, { current: current!, baselines }, { now: input.now, timezone: input.config.timezone }) });
  }

  const plan = planNotifications({
    evaluated: evaluations,
    series: pruneRemovedAlerts(input.state.series, new Set(input.config.alerts.map((a) => a.name))),
    now: input.now,
    timezone: input.config.timezone,
    langfuseUrl: input.langfuseUrl,
  });

  const outbox: Record<string, OutboxEntry> = { ...input.state.outbox };
  for (const { notification, channels } of plan.notifications) {
    const pending = new Set([...(outbox[notification.id]?.pending ?? []), ...channels]);
    outbox[notification.id] = {
      notification,
      pending: [...pending],
      createdAt: outbox[notification.id]?.createdAt ?? input.now.toISOString(),
      attempts: outbox[notification.id]?.attempts ?? 0,
    };
  }
  let state: State = { ...input.state, series: plan.series, outbox: dropUnknownChannels(outbox, input.channels, input.log) };
  const save = input.dryRun ? async () => {} : input.save;
  await save(state);

  const pendingByChannel = pendingPerChannel(state.outbox);
  const deliveries: DeliveryRecord[] = [];
  const deliveryFailures: DeliveryFailure[] = [];
  if (!input.dryRun) {
    for (const [channelName, notifications] of pendingByChannel) {
      const channel = input.channels.get(channelName)!;
      const outcomes = await deliver(channel, notifications, { ...input.deliveryOptions, signal: input.signal });
      const failed = outcomes.filter((o) => !o.ok);
      for (const o of outcomes) {
        deliveries.push({ channel: channelName, channelType: channel.type, notificationId: o.notificationId, ok: o.ok });
      }
      state = recordOutcomes(state, channelName, outcomes, input.now);
      if (failed.length > 0) {
        const error = failed[0]!.ok ? '' : failed[0]!.error;
        deliveryFailures.push({ channel: channelName, notificationIds: failed.map((o) => o.notificationId), error });
        input.log.error({ channel: channelName, err: error }, `channel ${channelName} did not accept ${failed.length} notification(s): ${error}`);
      }
      await save(state);
    }
  }

  const delivered = deliveries.filter((d) => d.ok).length;
  const firing = evaluations.reduce((n, e) => n + e.series.filter((s) => s.breach !== null).length, 0);
  state = {
    ...state,
    lastEvaluation: {
      at: input.now.toISOString(),
      ok: alertFailures.length === 0 && deliveryFailures.length === 0,
      alertsEvaluated: evaluations.length,
      firing,
      notificationsSent: delivered,
      errors: [...alertFailures.map((f) => `${f.alert}: ${f.error}`), ...deliveryFailures.map((f) => `${f.channel}: ${f.error}`)],
    },
  };
  await save(state);
  return {
    evaluations,
    alertFailures,
    planned: plan.notifications,
    pendingByChannel,
    delivered,
    deliveries,
    deliveryFailures,
    state,
  };
}

function dropUnknownChannels(
  outbox: Readonly<Record<string, OutboxEntry>>,
  channels: ReadonlyMap<string, Channel>,
  log: Logger,
): Record<string, OutboxEntry> {
  const result: Record<string, OutboxEntry> = {};
  for (const [id, entry] of Object.entries(outbox)) {
    const gone = entry.pending.filter((name) => !channels.has(name));
    for (const name of gone) {
      log.warn({ channel: name }, `channel ${name} is no longer configured: its pending notification ${id} is dropped`);
    }
    const pending = entry.pending.filter((name) => channels.has(name));
    if (pending.length > 0) result[id] = { ...entry, pending };
  }
  return result;
}

function pendingPerChannel(outbox: Readonly<Record<string, OutboxEntry>>): Map<string, Notification[]> {
  const result = new Map<string, Notification[]>();
  const entries = Object.values(outbox).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  for (const entry of entries) {
    for (const channelName of entry.pending) {
      result.set(channelName, [...(result.get(channelName) ?? []), entry.notification]);
    }
  }
  return result;
}

function recordOutcomes(
  state: State,
  channelName: string,
  outcomes: ReadonlyArray<{ notificationId: string; ok: boolean; error?: string }>,
  now: Date,
): State {
  const outbox: Record<string, OutboxEntry> = { ...state.outbox };
  for (const outcome of outcomes) {
    const entry = outbox[outcome.notificationId];
    if (!entry) continue;
    if (outcome.ok) {
      const pending = entry.pending.filter((c) => c !== channelName);
      if (pending.length === 0) delete outbox[outcome.notificationId];
      else outbox[outcome.notificationId] = { ...entry, pending };
    } else {
      outbox[outcome.notificationId] = {
        ...entry,
        attempts: entry.attempts + 1,
        lastError: `${channelName}: ${outcome.error ?? 'failed'} (${now.toISOString()})`,
      };
    }
  }
  return { ...state, outbox };
}
