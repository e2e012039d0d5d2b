// One evaluation of a set of alerts: fetch → evaluate (pure) → plan (pure) → record → deliver →
// record. Decisions are written before anything is sent and every delivery is recorded as soon as
// its channel answered, so a crash can repeat at most the one send in flight on each channel and
// never loses one. Every write is a read-modify-write under the state lock.
import { randomUUID } from 'node:crypto';
import { deliver, type DeliveryOutcome } from '../channels/deliver.js';
import type { Notification } from '../core/notification.js';
import { planNotifications, type PlannedNotification } from '../core/decide/notifications.js';
import { pruneRemovedAlerts, type State } from '../core/ledger.js';
import { realTimer, timeLimit } from '../util/deadline.js';
import { formatSeconds } from '../util/format-seconds.js';
import { deliveryFailuresByChannel, describeDeliveryFailure, describeUnread, unreadByError } from './failures.js';
import { recordChannelHealth, recordLangfuseHealth } from './health.js';
import { addToOutbox, claimsOfOthers, dueByChannel, expireUndeliverable, recordOutcome } from './outbox.js';
import { alertRequests, fetchAndEvaluate, finalizedAfter } from './requests.js';
import {
  DEFAULT_POLICY,
  type AlertFailure,
  type CheckInput,
  type CheckReport,
  type DeliveryFailure,
  type DeliveryRecord,
  type EvaluatedAlert,
  type WaitingAlerts,
} from './types.js';

export * from './types.js';
export { waitingLine } from './requests.js';

export async function runCheck(input: CheckInput): Promise<CheckReport> {
  const policy = { ...DEFAULT_POLICY, ...input.policy };
  const { now, config, log } = input;
  const runId = randomUUID();
  const initial = await input.store.load();

  // fetch → evaluate
  const requests = alertRequests(input.alerts, initial, config.timezone, now, policy.lagMarginMs);
  const { evaluations, alertFailures, waiting } = await fetchAndEvaluate(input, requests, policy);
  for (const unread of unreadByError(alertFailures)) {
    log.error({ alerts: unread.alerts, err: unread.error }, describeUnread(unread));
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
    next = recordLangfuseHealth(next, input, policy, alertFailures, planned);
    next = addToOutbox(next, planned, config, now, policy);
    return expireUndeliverable(next, input, policy, planned);
  };
  const decided = input.dryRun ? decide(initial) : await input.store.update(decide);

  // deliver
  const deliveries: DeliveryRecord[] = [];
  const deliveryFailures: DeliveryFailure[] = [];
  const clock = input.clock ?? (() => new Date());
  if (input.dryRun) {
    return report(evaluations, alertFailures, waiting, planned, dueByChannel(decided, input, now, clock(), policy, runId).pending, deliveries, deliveryFailures, decided);
  }
  const startTimer = input.startTimer ?? realTimer;
  const phase = timeLimit(
    policy.deliveryBudgetMs,
    `the delivery phase's time limit of ${formatSeconds(policy.deliveryBudgetMs / 1000)} ran out`,
    input.signal,
    startTimer,
  );
  const pendingByChannel = new Map<string, Notification[]>();
  const deliverChannel = async (channelName: string, notifications: Notification[]) => {
    pendingByChannel.set(channelName, [...(pendingByChannel.get(channelName) ?? []), ...notifications]);
    const channel = input.channels.get(channelName)!;
    const limit = timeLimit(
      policy.channelBudgetMs,
      `channel ${channelName}'s time limit of ${formatSeconds(policy.channelBudgetMs / 1000)} ran out`,
      phase.signal,
      startTimer,
    );
    let outcomes: DeliveryOutcome[];
    try {
      outcomes = await deliver(channel, notifications, {
        ...input.deliveryOptions,
        redact: input.redact,
        signal: limit.signal,
        onSent: async (sent) => {
          await input.store.update((state) => sent.reduce((next, outcome) => recordOutcome(next, channelName, outcome, now, policy), state));
        },
      });
    } finally {
      limit.clear();
    }
    const failed = outcomes.filter((o): o is Extract<DeliveryOutcome, { ok: false }> => !o.ok);
    const failure: DeliveryFailure | null =
      failed.length === 0 ? null : { channel: channelName, notificationIds: failed.map((o) => o.notificationId), error: failed[0]!.error };
    if (failure) log.error({ channel: channelName, err: failure.error }, describeDeliveryFailure(failure));
    return { channelName, channel, outcomes, failure };
  };
  const deliverDue = async (only?: ReadonlySet<string>): Promise<void> => {
    let claimed = new Map<string, Notification[]>();
    const claimedState = await input.store.update((state) => {
      const due = dueByChannel(state, input, now, clock(), policy, runId, only);
      claimed = due.pending;
      return due.state;
    });
    const others = claimsOfOthers(claimedState, clock(), runId);
    if (others.count > 0) {
      log.warn({ claimed: others.count, until: others.until }, `${others.count} deliveries are claimed by another process until ${others.until}: left to it`);
    }
    // Every channel at once, each under its own time limit, so one that hangs or fails holds up
    // no other; within a channel one send after the other, each recorded as soon as the peer
    // answered, so a crash repeats at most the send in flight on each channel.
    const results = await Promise.all([...claimed].map(([channelName, notifications]) => deliverChannel(channelName, notifications)));
    for (const { channelName, channel, outcomes, failure } of results) {
      for (const o of outcomes) {
        deliveries.push({ channel: channelName, channelType: channel.type, notificationId: o.notificationId, ok: o.ok });
      }
      if (failure) deliveryFailures.push(failure);
    }
  };
  try {
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
  } finally {
    phase.clear();
  }

  const final = await input.store.update((state) => ({
    ...state,
    lastEvaluation: {
      at: now.toISOString(),
      ok: alertFailures.length === 0 && deliveryFailures.length === 0,
      alertsEvaluated: evaluations.filter((e) => !e.final).length,
      firing: countFiring(evaluations),
      notificationsSent: deliveries.filter((d) => d.ok).length,
      errors: [...unreadByError(alertFailures).map(describeUnread), ...deliveryFailuresByChannel(deliveryFailures).map(describeDeliveryFailure)],
    },
  }));
  return report(evaluations, alertFailures, waiting, planned, pendingByChannel, deliveries, deliveryFailures, final);
}

function report(
  evaluations: readonly EvaluatedAlert[],
  alertFailures: readonly AlertFailure[],
  waiting: WaitingAlerts | null,
  planned: readonly PlannedNotification[],
  pendingByChannel: ReadonlyMap<string, readonly Notification[]>,
  deliveries: readonly DeliveryRecord[],
  deliveryFailures: readonly DeliveryFailure[],
  state: State,
): CheckReport {
  return {
    evaluations: evaluations.filter((e) => !e.final),
    alertFailures,
    waiting,
    planned,
    pendingByChannel,
    delivered: deliveries.filter((d) => d.ok).length,
    deliveries,
    deliveryFailures,
    state,
  };
}

function countFiring(evaluations: readonly EvaluatedAlert[]): number {
  return evaluations.filter((e) => !e.final).reduce((n, e) => n + e.series.filter((s) => s.breach !== null).length, 0);
}

