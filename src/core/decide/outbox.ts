// The delivery ledger in state: what each channel still has to accept, with backoff, claims so
// two processes never send the same thing, and expiry into one summary per channel. Pure.
import type { Notification } from '../notification.js';
import { undeliveredSummary } from './notices.js';
import type { OutboxEntry, PendingDelivery, State } from '../ledger.js';
import { parseWindow, periodStart, type CalendarWindow } from '../time/windows.js';
import { backoffCeilingMs } from '../backoff.js';
import type { DecideContext, DecisionEvent, DecisionPolicy, Deliveries, PlannedNotification } from './types.js';

/** What a channel answered for one notification, as the outbox records it. */
export type RecordedOutcome =
  | { readonly notificationId: string; readonly ok: true }
  | {
      readonly notificationId: string;
      readonly ok: false;
      /** redacted, safe to store */
      readonly error: string;
      /** the peer asked not to be tried again for this long */
      readonly retryAfterSeconds?: number;
    };

type ExpiryContext = Pick<DecideContext, 'timezone' | 'expireAfterMs'>;

/**
 * Puts `planned` in the outbox, due at once, or when its channel's Retry-After has passed: the
 * delivery carries that wait itself, so it holds even once the delivery that met the 429 is gone.
 * `waits` defaults to those of `state`; expiry passes the ones from before it removed entries.
 */
export function addToOutbox(
  state: State,
  planned: readonly PlannedNotification[],
  now: Date,
  context: ExpiryContext,
  waits: ReadonlyMap<string, string> = askedToWaitUntil(state),
): State {
  const nowIso = now.toISOString();
  const outbox: Record<string, OutboxEntry> = { ...state.outbox };
  for (const { notification, channels } of planned) {
    if (channels.length === 0) continue;
    const existing = outbox[notification.id];
    const pending: Record<string, PendingDelivery> = { ...existing?.channels };
    for (const name of channels) {
      const asked = waits.get(name);
      pending[name] ??= asked !== undefined && asked > nowIso ? { attempts: 0, nextAttemptAt: asked, notBefore: asked } : { attempts: 0, nextAttemptAt: nowIso };
    }
    outbox[notification.id] = {
      notification,
      createdAt: existing?.createdAt ?? now.toISOString(),
      expiresAt: existing?.expiresAt ?? expiryOf(notification, now, context),
      channels: pending,
    };
  }
  return { ...state, outbox };
}

/**
 * 24 h after the notification's period ended; a rolling window's period ends when it is decided, a
 * digest's at its scheduled time.
 */
function expiryOf(notification: Notification, now: Date, context: ExpiryContext): string | null {
  if (notification.kind === 'system') return null;
  if (notification.digest !== undefined) return new Date(Date.parse(notification.digest.scheduledFor) + context.expireAfterMs).toISOString();
  const spec = parseWindow(notification.window.type);
  const end = spec.kind === 'calendar' ? nextPeriodStart(spec, new Date(notification.window.from), context.timezone) : now;
  return new Date(end.getTime() + context.expireAfterMs).toISOString();
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

/** Notifications past their expiry leave the outbox; each channel that lost some gets one summary instead. */
export function expireUndeliverable(
  state: State,
  now: Date,
  context: DecideContext,
): { state: State; summaries: PlannedNotification[]; events: DecisionEvent[] } {
  const nowIso = now.toISOString();
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
  if (lostByChannel.size === 0) return { state, summaries: [], events: [] };
  const noticeContext = { now, timezone: context.timezone, langfuseUrl: context.langfuseUrl };
  const summaries: PlannedNotification[] = [];
  const events: DecisionEvent[] = [];
  for (const [name, lost] of lostByChannel) {
    events.push({
      level: 'warn',
      fields: { channel: name, count: lost.length },
      message: `${lost.length} notification(s) for ${name} expired undelivered; a summary replaces them`,
    });
    if (context.channels.includes(name)) summaries.push({ notification: undeliveredSummary(name, lost, noticeContext), channels: [name] });
  }
  return { state: addToOutbox({ ...state, outbox }, summaries, now, context, askedToWaitUntil(state)), summaries, events };
}

/** A claim outlives its channel's time limit by this much: the owner records the outcome in it. */
const CLAIM_MARGIN_MS = 10_000;

/** How long a delivery stays claimed by the process sending it: a killed process's claims lapse that soon. */
function claimMs(policy: Pick<DecisionPolicy, 'channelBudgetMs'>): number {
  return policy.channelBudgetMs + CLAIM_MARGIN_MS;
}

/**
 * Claims, per channel, the pending notifications due at `now` (only those of `only`, when given)
 * for `context.claim.by`, so a concurrent process skips them. None is due before the channel's
 * Retry-After has passed. Deliveries to channels no longer
 * configured are dropped; deliveries another process holds are left to it, and said so.
 */
export function claimDue(
  state: State,
  now: Date,
  context: DecideContext,
  only?: ReadonlySet<string>,
): { state: State; deliveries: Deliveries; events: DecisionEvent[] } {
  const nowIso = now.toISOString();
  const { by, at } = context.claim;
  const claimUntil = new Date(at.getTime() + claimMs(context)).toISOString();
  const waits = askedToWaitUntil(state);
  const deliveries = new Map<string, Notification[]>();
  const events: DecisionEvent[] = [];
  const outbox: Record<string, OutboxEntry> = {};
  const entries = Object.entries(state.outbox).sort(([, a], [, b]) => a.createdAt.localeCompare(b.createdAt));
  for (const [id, entry] of entries) {
    const channels: Record<string, PendingDelivery> = {};
    for (const [name, delivery] of Object.entries(entry.channels)) {
      if (!context.channels.includes(name)) {
        events.push({ level: 'warn', fields: { channel: name }, message: `channel ${name} is no longer configured: its pending notification ${id} is dropped` });
        continue;
      }
      const due =
        (only === undefined || only.has(id)) &&
        (waits.get(name) ?? '') <= nowIso &&
        (delivery.nextAttemptAt <= nowIso || context.ignoreBackoff) &&
        !isClaimed(delivery, at);
      if (!due) {
        channels[name] = delivery;
        continue;
      }
      const late = now.getTime() - Date.parse(entry.createdAt) > context.lateAfterMs;
      const notification = late ? { ...entry.notification, delayedSince: entry.createdAt } : entry.notification;
      deliveries.set(name, [...(deliveries.get(name) ?? []), notification]);
      channels[name] = { ...delivery, claimedBy: by, claimedUntil: claimUntil };
    }
    if (Object.keys(channels).length > 0) outbox[id] = { ...entry, channels };
  }
  const claimed = { ...state, outbox };
  const others = claimsOfOthers(claimed, at, by);
  if (others.count > 0) {
    events.push({
      level: 'warn',
      fields: { claimed: others.count, until: others.until },
      message: `${others.count} deliveries are claimed by another process until ${others.until}: left to it`,
    });
  }
  return { state: claimed, deliveries, events };
}

/**
 * Per channel, the latest time its peer asked (Retry-After) not to be tried before, over all of the
 * channel's pending deliveries: the peer is rate-limiting the channel, not one notification, so the
 * wait holds for every delivery to it, those decided after the 429 and those backed off less included.
 */
export function askedToWaitUntil(state: State): Map<string, string> {
  const waits = new Map<string, string>();
  for (const entry of Object.values(state.outbox)) {
    for (const [name, delivery] of Object.entries(entry.channels)) {
      if (delivery.notBefore !== undefined && delivery.notBefore > (waits.get(name) ?? '')) waits.set(name, delivery.notBefore);
    }
  }
  return waits;
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

/** A channel's answer for one notification: delivered leaves the outbox, failed backs off. */
export function recordOutcome(
  state: State,
  channelName: string,
  outcome: RecordedOutcome,
  now: Date,
  policy: Pick<DecisionPolicy, 'retryBaseMs' | 'retryMaxMs'>,
): State {
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
