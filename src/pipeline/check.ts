// One evaluation of a set of alerts: fetch → evaluate (pure) → plan (pure) → record → deliver →
// record. Decisions are written before anything is sent and every delivery is recorded as soon as
// its channel answered, so a crash can repeat at most the one notification in flight on one
// channel and never loses one. Every write is a read-modify-write under the state lock.
import { randomUUID } from 'node:crypto';
import type { AlertConfig, Config } from '../config/schema.js';
import type { Channel } from '../channels/channel.js';
import { deliver, type DeliverOptions, type DeliveryOutcome } from '../channels/deliver.js';
import { evaluateAlert, neededRanges, type NeededRanges } from '../evaluate/evaluate.js';
import type { SeriesEvaluation } from '../evaluate/series.js';
import { LangfuseError } from '../langfuse/client.js';
import type { Logger } from '../log/logger.js';
import type { Notification } from '../notify/notification.js';
import { planNotifications, type PlannedNotification } from '../notify/plan.js';
import {
  channelFailing,
  channelRecovered,
  langfuseDegraded,
  langfuseRecovered,
  undeliveredSummary,
} from '../notify/system.js';
import type { SpendQuery, SpendReading, SpendSource } from '../spend/source.js';
import {
  HEALTHY,
  pruneRemovedAlerts,
  type OutboxEntry,
  type PeerHealth,
  type PendingDelivery,
  type State,
} from '../state/state.js';
import type { StateStore } from '../state/store.js';
import { parseWindow, periodStart, type CalendarWindow } from '../time/windows.js';

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
  /** backoff between attempts of one pending delivery */
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
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
  retryBaseMs: 60_000,
  retryMaxMs: 3_600_000,
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
  readonly deliveryOptions?: DeliverOptions;
  readonly signal?: AbortSignal;
  readonly policy?: Partial<CheckPolicy>;
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

export interface EvaluatedAlert {
  readonly alert: AlertConfig;
  readonly series: readonly SeriesEvaluation[];
  readonly final?: boolean;
}

export interface CheckReport {
  /** regular evaluations (final checks of closed periods are not included) */
  readonly evaluations: readonly EvaluatedAlert[];
  readonly alertFailures: readonly AlertFailure[];
  /** notifications decided by this evaluation, system notices included */
  readonly planned: readonly PlannedNotification[];
  /** per channel, what it was asked to deliver now (new and earlier pending), or would be in a dry run */
  readonly pendingByChannel: ReadonlyMap<string, readonly Notification[]>;
  readonly delivered: number;
  readonly deliveries: readonly DeliveryRecord[];
  readonly deliveryFailures: readonly DeliveryFailure[];
  readonly state: State;
}

interface AlertRequest {
  readonly alert: AlertConfig;
  readonly ranges: NeededRanges;
  readonly final: boolean;
  /** the time the series are evaluated at: now, or the end of the closed period */
  readonly at: Date;
  /** calendar windows: ISO start of the period before the current one */
  readonly previousPeriod?: string;
}

export async function runCheck(input: CheckInput): Promise<CheckReport> {
  const policy = { ...DEFAULT_POLICY, ...input.policy };
  const { now, config, log } = input;
  const runId = randomUUID();
  const initial = await input.store.load();

  // fetch → evaluate
  const requests = alertRequests(input.alerts, initial, config.timezone, now, policy.lagMarginMs);
  const { evaluations, alertFailures, rateLimitedUntil } = await fetchAndEvaluate(input, requests, initial, policy);
  for (const failure of alertFailures) {
    log.error({ alert: failure.alert, err: failure.error }, `alert ${failure.alert} could not be evaluated: ${failure.error}`);
  }

  // plan → record, under the lock so a concurrent check or daemon is never overwritten
  const planned: PlannedNotification[] = [];
  const decide = (state: State): State => {
    planned.length = 0;
    const plan = planNotifications({
      evaluated: evaluations,
      series: pruneRemovedAlerts(state.series, new Set(config.alerts.map((a) => a.name))),
      now,
      timezone: config.timezone,
      langfuseUrl: input.langfuseUrl,
    });
    planned.push(...plan.notifications);
    let next: State = { ...state, series: plan.series, finalized: finalizedAfter(state, requests, evaluations) };
    next = recordLangfuseHealth(next, input, policy, alertFailures, rateLimitedUntil, planned);
    next = addToOutbox(next, planned, config, now, policy);
    return expireUndeliverable(next, input, policy, planned);
  };
  const decided = input.dryRun ? decide(initial) : await input.store.update(decide);

  // deliver
  const deliveries: DeliveryRecord[] = [];
  const deliveryFailures: DeliveryFailure[] = [];
  if (input.dryRun) {
    return report(evaluations, alertFailures, planned, dueByChannel(decided, input, now, policy, runId).pending, deliveries, deliveryFailures, decided);
  }
  const signal = anySignal(input.signal, policy.deliveryBudgetMs);
  const pendingByChannel = new Map<string, Notification[]>();
  const deliverDue = async (only?: ReadonlySet<string>): Promise<void> => {
    let claimed = new Map<string, Notification[]>();
    await input.store.update((state) => {
      const due = dueByChannel(state, input, now, policy, runId, only);
      claimed = due.pending;
      return due.state;
    });
    // One channel after the other: only one send is ever in flight, so a crash repeats at most it.
    for (const [channelName, notifications] of claimed) {
      pendingByChannel.set(channelName, [...(pendingByChannel.get(channelName) ?? []), ...notifications]);
      const channel = input.channels.get(channelName)!;
      const outcomes = await deliver(channel, notifications, {
        ...input.deliveryOptions,
        signal,
        onSent: async (sent) => {
          await input.store.update((state) => sent.reduce((next, outcome) => recordOutcome(next, channelName, outcome, now, policy), state));
        },
      });
      for (const o of outcomes) {
        deliveries.push({ channel: channelName, channelType: channel.type, notificationId: o.notificationId, ok: o.ok });
      }
      const failed = outcomes.filter((o): o is Extract<DeliveryOutcome, { ok: false }> => !o.ok);
      if (failed.length > 0) {
        deliveryFailures.push({ channel: channelName, notificationIds: failed.map((o) => o.notificationId), error: failed[0]!.error });
        log.error({ channel: channelName, err: failed[0]!.error }, `channel ${channelName} did not accept ${failed.length} notification(s): ${failed[0]!.error}`);
      }
    }
  };
  await deliverDue();

  // channel health: a channel that keeps failing is reported through the others, at once
  const notices: PlannedNotification[] = [];
  await input.store.update((state) => {
    notices.length = 0;
    return recordChannelHealth(state, input, policy, deliveries, deliveryFailures, notices);
  });
  if (notices.length > 0) {
    planned.push(...notices);
    await deliverDue(new Set(notices.map((n) => n.notification.id)));
  }

  const final = await input.store.update((state) => ({
    ...state,
    lastEvaluation: {
      at: now.toISOString(),
      ok: alertFailures.length === 0 && deliveryFailures.length === 0,
      alertsEvaluated: evaluations.filter((e) => !e.final).length,
      firing: countFiring(evaluations),
      notificationsSent: deliveries.filter((d) => d.ok).length,
      errors: [...alertFailures.map((f) => `${f.alert}: ${f.error}`), ...deliveryFailures.map((f) => `${f.channel}: ${f.error}`)],
    },
  }));
  return report(evaluations, alertFailures, planned, pendingByChannel, deliveries, deliveryFailures, final);
}

function report(
  evaluations: readonly EvaluatedAlert[],
  alertFailures: readonly AlertFailure[],
  planned: readonly PlannedNotification[],
  pendingByChannel: ReadonlyMap<string, readonly Notification[]>,
  deliveries: readonly DeliveryRecord[],
  deliveryFailures: readonly DeliveryFailure[],
  state: State,
): CheckReport {
  return {
    evaluations: evaluations.filter((e) => !e.final),
    alertFailures,
    planned,
    pendingByChannel,
    delivered: deliveries.filter((d) => d.ok).length,
    deliveries,
    deliveryFailures,
    state,
  };
}

export function countFiring(evaluations: readonly EvaluatedAlert[]): number {
  return evaluations.filter((e) => !e.final).reduce((n, e) => n + e.series.filter((s) => s.breach !== null).length, 0);
}

/** The regular request of every alert, plus the final check of a calendar period closed lagMargin ago. */
function alertRequests(
  alerts: readonly AlertConfig[],
  state: State,
  timezone: string,
  now: Date,
  lagMarginMs: number,
): AlertRequest[] {
  const requests: AlertRequest[] = [];
  for (const alert of alerts) {
    const spec = parseWindow(alert.window);
    if (spec.kind !== 'calendar') {
      requests.push({ alert, ranges: neededRanges(alert, now, timezone), final: false, at: now });
      continue;
    }
    const closedAt = periodStart(spec, now, timezone);
    const previousPeriod = periodStart(spec, new Date(closedAt.getTime() - 1), timezone).toISOString();
    requests.push({ alert, ranges: neededRanges(alert, now, timezone), final: false, at: now, previousPeriod });
    const finalized = state.finalized[alert.name];
    // Only periods the worker watched get a final check: a fresh install stays quiet about the past.
    if (finalized === undefined || finalized >= previousPeriod || now.getTime() - closedAt.getTime() < lagMarginMs) continue;
    // evaluated just before the period's end, its ranges then extended to the end itself
    const at = new Date(closedAt.getTime() - 1);
    requests.push({ alert, ranges: closedPeriodRanges(alert, at, timezone), final: true, at, previousPeriod });
  }
  return requests;
}

/** The ranges of the period that ends right after `justBefore`, measured to its very end. */
function closedPeriodRanges(alert: AlertConfig, justBefore: Date, timezone: string): NeededRanges {
  const ranges = neededRanges(alert, justBefore, timezone);
  const extend = (r: { from: Date; to: Date }) => ({ from: r.from, to: new Date(r.to.getTime() + 1) });
  return { current: extend(ranges.current), baselines: ranges.baselines.map(extend) };
}

/**
 * A calendar alert's previous period counts as checked once its final check succeeded, or when
 * the alert is first seen (nothing before that is reported).
 */
function finalizedAfter(state: State, requests: readonly AlertRequest[], evaluations: readonly EvaluatedAlert[]): Record<string, string> {
  const finalized: Record<string, string> = { ...state.finalized };
  for (const request of requests) {
    if (request.previousPeriod === undefined) continue;
    const evaluated = evaluations.some((e) => e.alert === request.alert && Boolean(e.final) === request.final);
    if (evaluated && (request.final || finalized[request.alert.name] === undefined)) {
      finalized[request.alert.name] = request.previousPeriod;
    }
  }
  return finalized;
}

async function fetchAndEvaluate(
  input: CheckInput,
  requests: readonly AlertRequest[],
  state: State,
  policy: CheckPolicy,
): Promise<{ evaluations: EvaluatedAlert[]; alertFailures: AlertFailure[]; rateLimitedUntil: Date | null }> {
  const evaluations: EvaluatedAlert[] = [];
  const alertFailures: AlertFailure[] = [];
  const blockedUntil = state.langfuse.blockedUntil;
  if (blockedUntil !== null && blockedUntil > input.now.toISOString()) {
    const error = `Langfuse asked not to be queried before ${blockedUntil} (rate limit); not queried`;
    for (const request of requests) if (!request.final) alertFailures.push({ alert: request.alert.name, error });
    return { evaluations, alertFailures, rateLimitedUntil: null };
  }
  const queries = requests.flatMap(({ alert, ranges }) =>
    [ranges.current, ...ranges.baselines].map(
      (range): SpendQuery => ({ filters: alert.filters ?? {}, groupBy: alert.groupBy, top: alert.top, from: range.from, to: range.to }),
    ),
  );
  const results = await input.source.spendAll(queries, anySignal(input.signal, policy.fetchBudgetMs));
  let rateLimitedUntil: Date | null = null;
  let next = 0;
  for (const request of requests) {
    const mine = results.slice(next, (next += 1 + request.ranges.baselines.length));
    const failed = mine.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      const reason: unknown = failed.reason;
      if (reason instanceof LangfuseError && reason.kind === 'rate-limited' && reason.retryAfterSeconds !== undefined) {
        rateLimitedUntil = new Date(input.now.getTime() + reason.retryAfterSeconds * 1000);
      }
      // a final check that failed is simply tried again at the next evaluation
      if (!request.final) alertFailures.push({ alert: request.alert.name, error: describeError(reason) });
      continue;
    }
    const [current, ...baselines] = mine.map((r) => (r as PromiseFulfilledResult<SpendReading>).value);
    const series = evaluateAlert(request.alert, { current: current!, baselines }, { now: request.at, timezone: input.config.timezone });
    evaluations.push({
      alert: request.alert,
      series: request.final ? series.map((s) => ({ ...s, window: { ...s.window, to: request.ranges.current.to.toISOString() } })) : series,
      ...(request.final ? { final: true } : {}),
    });
  }
  return { evaluations, alertFailures, rateLimitedUntil };
}

function describeError(error: unknown): string {
  if (error instanceof Error) return error.name === 'AbortError' || error.name === 'TimeoutError' ? 'the evaluation ran out of time' : error.message;
  return String(error);
}

function anySignal(signal: AbortSignal | undefined, budgetMs: number): AbortSignal {
  const timeout = AbortSignal.timeout(budgetMs);
  return signal ? AbortSignal.any([signal, timeout]) : timeout;
}

function systemTargets(state: State, input: CheckInput, policy: CheckPolicy, exclude?: string): string[] {
  const candidates = policy.systemChannels ?? [...input.channels.keys()];
  return candidates.filter((name) => name !== exclude && input.channels.has(name) && (state.channels[name]?.failures ?? 0) === 0);
}

function recordLangfuseHealth(
  state: State,
  input: CheckInput,
  policy: CheckPolicy,
  failures: readonly AlertFailure[],
  rateLimitedUntil: Date | null,
  planned: PlannedNotification[],
): State {
  const context = { now: input.now, timezone: input.config.timezone, langfuseUrl: input.langfuseUrl };
  const blockedUntil = rateLimitedUntil?.toISOString() ?? (state.langfuse.blockedUntil && state.langfuse.blockedUntil > input.now.toISOString() ? state.langfuse.blockedUntil : null);
  if (failures.length === 0) {
    if (state.langfuse.noticeSent) {
      planned.push({ notification: langfuseRecovered(state.langfuse, context), channels: systemTargets(state, input, policy) });
    }
    return { ...state, langfuse: { ...HEALTHY, blockedUntil } };
  }
  const health: PeerHealth = {
    failures: state.langfuse.failures + 1,
    since: state.langfuse.since ?? input.now.toISOString(),
    lastError: failures[0]!.error,
    noticeSent: state.langfuse.noticeSent,
  };
  if (health.failures >= policy.degradedAfter && !health.noticeSent) {
    const blind = failures.map((f) => f.alert);
    planned.push({ notification: langfuseDegraded(health, blind, context), channels: systemTargets(state, input, policy) });
    return { ...state, langfuse: { ...health, noticeSent: true, blockedUntil } };
  }
  return { ...state, langfuse: { ...health, blockedUntil } };
}

function recordChannelHealth(
  state: State,
  input: CheckInput,
  policy: CheckPolicy,
  deliveries: readonly DeliveryRecord[],
  failures: readonly DeliveryFailure[],
  notices: PlannedNotification[],
): State {
  const context = { now: input.now, timezone: input.config.timezone, langfuseUrl: input.langfuseUrl };
  const channels: Record<string, PeerHealth> = { ...state.channels };
  const recovered: Array<[string, PeerHealth]> = [];
  const failing: Array<[string, PeerHealth]> = [];
  for (const name of new Set(deliveries.map((d) => d.channel))) {
    const previous = channels[name] ?? HEALTHY;
    const failure = failures.find((f) => f.channel === name);
    if (!failure) {
      if (previous.noticeSent) recovered.push([name, previous]);
      delete channels[name];
      continue;
    }
    const health: PeerHealth = {
      failures: previous.failures + 1,
      since: previous.since ?? input.now.toISOString(),
      lastError: failure.error,
      noticeSent: previous.noticeSent || previous.failures + 1 >= policy.degradedAfter,
    };
    channels[name] = health;
    if (health.noticeSent && !previous.noticeSent) failing.push([name, health]);
  }
  // targets from the health after this evaluation: a recovered channel hears of its own recovery
  const after = { ...state, channels };
  for (const [name, health] of recovered) {
    notices.push({ notification: channelRecovered(name, health, context), channels: systemTargets(after, input, policy) });
  }
  for (const [name, health] of failing) {
    const waiting = Object.values(state.outbox).filter((entry) => name in entry.channels).length;
    notices.push({ notification: channelFailing(name, health, waiting, context), channels: systemTargets(after, input, policy, name) });
  }
  const next = { ...state, channels };
  return addToOutbox(next, notices, input.config, input.now, policy);
}

function addToOutbox(state: State, planned: readonly PlannedNotification[], config: Config, now: Date, policy: CheckPolicy): State {
  const outbox: Record<string, OutboxEntry> = { ...state.outbox };
  for (const { notification, channels } of planned) {
    if (channels.length === 0) continue;
    const existing = outbox[notification.id];
    const pending: Record<string, PendingDelivery> = { ...existing?.channels };
    for (const name of channels) pending[name] ??= { attempts: 0, nextAttemptAt: now.toISOString() };
    outbox[notification.id] = {
      notification,
      createdAt: existing?.createdAt ?? now.toISOString(),
      expiresAt: existing?.expiresAt ?? expiryOf(notification, config, now, policy),
      channels: pending,
    };
  }
  return { ...state, outbox };
}

/** 24 h after the notification's period ended; a rolling window's period ends when it is decided. */
function expiryOf(notification: Notification, config: Config, now: Date, policy: CheckPolicy): string | null {
  if (notification.kind === 'system') return null;
  const spec = parseWindow(notification.window.type);
  const end = spec.kind === 'calendar' ? nextPeriodStart(spec, new Date(notification.window.from), config.timezone) : now;
  return new Date(end.getTime() + policy.expireAfterMs).toISOString();
}

const PAST_THE_NEXT_START: Record<CalendarWindow['unit'], number> = {
  day: 26 * 3_600_000,
  week: 8 * 24 * 3_600_000,
  month: 32 * 24 * 3_600_000,
};

/** Longer than any period of the unit (DST days included), shorter than two. */
function nextPeriodStart(spec: CalendarWindow, start: Date, timezone: string): Date {
  return periodStart(spec, new Date(start.getTime() + PAST_THE_NEXT_START[spec.unit]), timezone);
}

function expireUndeliverable(state: State, input: CheckInput, policy: CheckPolicy, planned: PlannedNotification[]): State {
  const nowIso = input.now.toISOString();
  const lostByChannel = new Map<string, Notification[]>();
  const outbox: Record<string, OutboxEntry> = {};
  for (const [id, entry] of Object.entries(state.outbox)) {
    if (entry.expiresAt === null || entry.expiresAt > nowIso) {
      outbox[id] = entry;
      continue;
    }
    for (const name of Object.keys(entry.channels)) {
      lostByChannel.set(name, [...(lostByChannel.get(name) ?? []), entry.notification]);
    }
  }
  if (lostByChannel.size === 0) return state;
  const context = { now: input.now, timezone: input.config.timezone, langfuseUrl: input.langfuseUrl };
  const summaries: PlannedNotification[] = [];
  for (const [name, lost] of lostByChannel) {
    input.log.warn({ channel: name, count: lost.length }, `${lost.length} notification(s) for ${name} expired undelivered; a summary replaces them`);
    if (input.channels.has(name)) summaries.push({ notification: undeliveredSummary(name, lost, context), channels: [name] });
  }
  planned.push(...summaries);
  return addToOutbox({ ...state, outbox }, summaries, input.config, input.now, policy);
}

/** Claims, per channel, the pending notifications due now, so a concurrent process skips them. */
function dueByChannel(
  state: State,
  input: CheckInput,
  now: Date,
  policy: CheckPolicy,
  runId: string,
  only?: ReadonlySet<string>,
): { state: State; pending: Map<string, Notification[]> } {
  const nowIso = now.toISOString();
  const claimUntil = new Date(now.getTime() + policy.deliveryBudgetMs + 60_000).toISOString();
  const pending = new Map<string, Notification[]>();
  const outbox: Record<string, OutboxEntry> = {};
  const entries = Object.entries(state.outbox).sort(([, a], [, b]) => a.createdAt.localeCompare(b.createdAt));
  for (const [id, entry] of entries) {
    const channels: Record<string, PendingDelivery> = {};
    for (const [name, delivery] of Object.entries(entry.channels)) {
      if (!input.channels.has(name)) {
        input.log.warn({ channel: name }, `channel ${name} is no longer configured: its pending notification ${id} is dropped`);
        continue;
      }
      const due =
        (only === undefined || only.has(id)) &&
        delivery.nextAttemptAt <= nowIso &&
        (delivery.claimedUntil === undefined || delivery.claimedUntil < nowIso);
      if (!due) {
        channels[name] = delivery;
        continue;
      }
      const late = now.getTime() - Date.parse(entry.createdAt) > policy.lateAfterMs;
      const notification = late ? { ...entry.notification, delayedSince: entry.createdAt } : entry.notification;
      pending.set(name, [...(pending.get(name) ?? []), notification]);
      channels[name] = { ...delivery, claimedBy: runId, claimedUntil: claimUntil };
    }
    if (Object.keys(channels).length > 0) outbox[id] = { ...entry, channels };
  }
  return { state: { ...state, outbox }, pending };
}

function recordOutcome(state: State, channelName: string, outcome: DeliveryOutcome, now: Date, policy: CheckPolicy): State {
  const entry = state.outbox[outcome.notificationId];
  const delivery = entry?.channels[channelName];
  if (!entry || !delivery) return state;
  const outbox: Record<string, OutboxEntry> = { ...state.outbox };
  const { [channelName]: _done, ...others } = entry.channels;
  if (outcome.ok) {
    if (Object.keys(others).length === 0) delete outbox[outcome.notificationId];
    else outbox[outcome.notificationId] = { ...entry, channels: others };
  } else {
    const attempts = delivery.attempts + 1;
    const backoff = Math.min(policy.retryMaxMs, policy.retryBaseMs * 2 ** (attempts - 1));
    outbox[outcome.notificationId] = {
      ...entry,
      channels: {
        ...others,
        [channelName]: { attempts, nextAttemptAt: new Date(now.getTime() + backoff).toISOString(), lastError: outcome.error },
      },
    };
  }
  return { ...state, outbox };
}
