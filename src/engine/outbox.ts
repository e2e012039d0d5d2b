// The delivery ledger in state: what each channel still has to accept, with backoff, claims so
// two processes never send the same thing, and expiry into one summary per channel.
import type { DeliveryOutcome } from '../channels/deliver.js';
import type { Config } from '../config/schema.js';
import type { Notification } from '../core/notification.js';
import type { PlannedNotification } from '../core/decide/notifications.js';
import { undeliveredSummary } from '../core/decide/notices.js';
import type { OutboxEntry, PendingDelivery, State } from '../core/ledger.js';
import { parseWindow, periodStart, type CalendarWindow } from '../core/time/windows.js';
import { backoffCeilingMs } from '../util/backoff.js';
import type { CheckInput, CheckPolicy } from './types.js';

export function addToOutbox(state: State, planned: readonly PlannedNotification[], config: Config, now: Date, policy: CheckPolicy): State {
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

export function expireUndeliverable(state: State, input: CheckInput, policy: CheckPolicy, planned: PlannedNotification[]): State {
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

/** A claim outlives its channel's time limit by this much: the owner records the outcome in it. */
const CLAIM_MARGIN_MS = 10_000;

/** How long a delivery stays claimed by the process sending it: a killed process's claims lapse that soon. */
function claimMs(policy: CheckPolicy): number {
  return policy.channelBudgetMs + CLAIM_MARGIN_MS;
}

/**
 * Claims, per channel, the pending notifications due now, so a concurrent process skips them.
 * `claimAt` is the wall-clock time of the claim: claims hold against other processes in real time.
 */
export function dueByChannel(
  state: State,
  input: CheckInput,
  now: Date,
  claimAt: Date,
  policy: CheckPolicy,
  runId: string,
  only?: ReadonlySet<string>,
): { state: State; pending: Map<string, Notification[]> } {
  const nowIso = now.toISOString();
  const claimUntil = new Date(claimAt.getTime() + claimMs(policy)).toISOString();
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
        (delivery.nextAttemptAt <= nowIso || (policy.ignoreBackoff && (delivery.notBefore ?? '') <= nowIso)) &&
        !isClaimed(delivery, claimAt);
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

/** Whether a process (this one or another) is sending the delivery right now. */
export function isClaimed(delivery: PendingDelivery, at: Date): boolean {
  return delivery.claimedUntil !== undefined && delivery.claimedUntil >= at.toISOString();
}

/** The deliveries another process than `runId` (any, without it) is sending at `at`, and until when the last claim holds. */
export function claimsOfOthers(state: State, at: Date, runId?: string): { count: number; until: string | null } {
  let count = 0;
  let until: string | null = null;
  for (const entry of Object.values(state.outbox)) {
    for (const delivery of Object.values(entry.channels)) {
      if (!isClaimed(delivery, at) || delivery.claimedBy === runId) continue;
      count += 1;
      if (until === null || delivery.claimedUntil! > until) until = delivery.claimedUntil!;
    }
  }
  return { count, until };
}

export function recordOutcome(state: State, channelName: string, outcome: DeliveryOutcome, now: Date, policy: CheckPolicy): State {
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
    const backoff = backoffCeilingMs(attempts, { baseMs: policy.retryBaseMs, maxMs: policy.retryMaxMs });
    // a Retry-After longer than the evaluation waits is honoured by the next attempt instead
    const askedMs = (outcome.retryAfterSeconds ?? 0) * 1000;
    const notBefore = outcome.retryAfterSeconds === undefined ? undefined : new Date(now.getTime() + askedMs);
    const next = new Date(now.getTime() + Math.max(backoff, askedMs));
    outbox[outcome.notificationId] = {
      ...entry,
      channels: {
        ...others,
        [channelName]: {
          attempts,
          nextAttemptAt: next.toISOString(),
          lastError: outcome.error,
          ...(notBefore === undefined ? {} : { notBefore: notBefore.toISOString() }),
        },
      },
    };
  }
  return { ...state, outbox };
}

/**
 * `channels` just accepted a message (test-notify): their pending deliveries are due at once, a
 * Retry-After they sent included. Returns the state and how many deliveries that concerns.
 */
export function clearBackoff(state: State, channels: ReadonlySet<string>, now: Date): { state: State; cleared: number } {
  let cleared = 0;
  const outbox: Record<string, OutboxEntry> = {};
  for (const [id, entry] of Object.entries(state.outbox)) {
    const pending: Record<string, PendingDelivery> = {};
    for (const [name, delivery] of Object.entries(entry.channels)) {
      if (!channels.has(name)) {
        pending[name] = delivery;
        continue;
      }
      const { notBefore: _asked, ...rest } = delivery;
      pending[name] = { ...rest, nextAttemptAt: now.toISOString() };
      cleared += 1;
    }
    outbox[id] = { ...entry, channels: pending };
  }
  return { state: { ...state, outbox }, cleared };
}
