// One evaluation, the same for `check`, the daemon's scheduled runs and `demo`: admission against
// the request quota, the project link, fetch → evaluate → decide → record → deliver → record, and
// the summary line. The decisions are pure (core/decide); this module does their I/O. Decisions
// are written before anything is sent and every delivery is recorded as soon as its channel
// answered, so a crash can repeat at most the one send in flight on each channel and never loses
// one. Every write is a read-modify-write under the state lock.
import { randomUUID } from 'node:crypto';
import { deliver, type DeliveryOutcome } from '../channels/deliver.js';
import type { Notification } from '../core/notification.js';
import {
  decide,
  decideAfterDelivery,
  recordEvaluation,
  type DecideContext,
  type Decision,
  type DecisionEvent,
  type DeliveryFailure,
  type DeliveryRecord,
  type EvaluatedAlert,
  type PlannedNotification,
} from '../core/decide/index.js';
import { recordOutcome } from '../core/decide/outbox.js';
import type { State } from '../core/ledger.js';
import type { Logger } from '../log/logger.js';
import { realTimer, timeLimit } from '../util/deadline.js';
import { formatSeconds } from '../util/format-seconds.js';
import { deliveryFailuresByChannel, describeDeliveryFailure, describeUnread, unreadByError } from './failures.js';
import { explainFiring, firingSeries, mayExplain } from './contributors.js';
import { alertRequests, anySignal, describeError, fetchAndEvaluate, periodChecks } from './requests.js';
import { logEvaluation } from './summary.js';
import { DEFAULT_POLICY, type CheckPolicy, type CheckReport, type DeferredReport, type TickDeps, type TickReport } from './types.js';

export * from './types.js';
export { waitingLine } from './requests.js';

/** Without a request quota to ask, nothing defers the evaluation. */
export function tick(deps: TickDeps & { readonly admission?: undefined }, now: Date): Promise<CheckReport>;
export function tick(deps: TickDeps, now: Date): Promise<TickReport>;
export async function tick(deps: TickDeps, now: Date): Promise<TickReport> {
  const policy: CheckPolicy = { ...DEFAULT_POLICY, ...deps.policy };
  const { config, log, clock } = deps;
  const started = clock();
  const requestsBefore = deps.langfuseRequests?.() ?? 0;

  const refused = await admit(deps, now);
  if (refused) return refused;
  const langfuseUrl = typeof deps.langfuseUrl === 'string' ? deps.langfuseUrl : await deps.langfuseUrl();
  const context = (): DecideContext => ({
    ...policy,
    timezone: config.timezone,
    langfuseUrl,
    alerts: config.alerts.map((a) => a.name),
    channels: [...deps.channels.keys()],
    claim: { by: runId, at: clock() },
  });
  const runId = randomUUID();
  const initial = await deps.store.load();

  // fetch → evaluate
  const requests = alertRequests(deps.alerts, initial, config.timezone, now, policy.lagMarginMs);
  const fetched = await fetchAndEvaluate(deps, requests, now, policy);
  const { alertFailures, waiting } = fetched;
  for (const unread of unreadByError(alertFailures)) {
    log.error({ alerts: unread.alerts, err: unread.error }, describeUnread(unread));
  }
  // why it fired: the series that will fire, decided on the state as read, get their top
  // contributors before the decision is made and recorded (the outbox keeps them)
  let evaluations = fetched.evaluations;
  if (mayExplain(evaluations)) {
    const preview = decide(initial, { evaluated: evaluations, periodChecks: periodChecks(requests) }, { failures: alertFailures }, now, context());
    evaluations = await explainFiring(
      deps.source,
      evaluations,
      fetched.explains,
      firingSeries(preview.planned),
      langfuseUrl,
      (error) => deps.redact(describeError(error)),
      now,
      anySignal(deps.signal, policy.fetchBudgetMs),
    );
  }

  // decide → record, under the lock so a concurrent check or daemon is never overwritten
  let decision: Decision | undefined;
  const decideOn = (state: State): State => {
    const health = { failures: alertFailures };
    decision = decide(state, { evaluated: evaluations, periodChecks: periodChecks(requests) }, health, now, context());
    return decision.ledger;
  };
  if (deps.dryRun) decideOn(initial);
  else await deps.store.update(decideOn);
  const decided = decision!;
  logEvents(log, decided.events);
  const planned: PlannedNotification[] = [...decided.planned];

  const deliveries: DeliveryRecord[] = [];
  const deliveryFailures: DeliveryFailure[] = [];
  const pendingByChannel = new Map<string, Notification[]>();
  const finish = (state: State): CheckReport => {
    const finishedAt = clock();
    const report: CheckReport = {
      kind: 'evaluated',
      evaluations: evaluations.filter((e) => !e.final),
      alertFailures,
      waiting,
      planned,
      pendingByChannel,
      delivered: deliveries.filter((d) => d.ok).length,
      deliveries,
      deliveryFailures,
      state,
      ms: finishedAt.getTime() - started.getTime(),
      finishedAt,
    };
    const langfuseRequests = (deps.langfuseRequests?.() ?? 0) - requestsBefore;
    logEvaluation(log, report, { alerts: deps.alerts.map((a) => a.name), ms: report.ms, langfuseRequests, now });
    return report;
  };
  if (deps.dryRun) {
    for (const [channel, notifications] of decided.deliveries) pendingByChannel.set(channel, [...notifications]);
    return finish(decided.ledger);
  }

  // deliver → record
  const startTimer = deps.startTimer ?? realTimer;
  const phase = timeLimit(
    policy.deliveryBudgetMs,
    `the delivery phase's time limit of ${formatSeconds(policy.deliveryBudgetMs / 1000)} ran out`,
    deps.signal,
    startTimer,
  );
  const deliverChannel = async (channelName: string, notifications: readonly Notification[]) => {
    pendingByChannel.set(channelName, [...(pendingByChannel.get(channelName) ?? []), ...notifications]);
    const channel = deps.channels.get(channelName)!;
    const limit = timeLimit(
      policy.channelBudgetMs,
      `channel ${channelName}'s time limit of ${formatSeconds(policy.channelBudgetMs / 1000)} ran out`,
      phase.signal,
      startTimer,
    );
    let outcomes: DeliveryOutcome[];
    try {
      outcomes = await deliver(channel, notifications, {
        ...deps.deliveryOptions,
        redact: deps.redact,
        signal: limit.signal,
        onSent: async (sent) => {
          await deps.store.update((state) => sent.reduce((next, outcome) => recordOutcome(next, channelName, outcome, now, policy), state));
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
  // Every channel at once, each under its own time limit, so one that hangs or fails holds up no
  // other; within a channel one send after the other, each recorded as soon as the peer answered,
  // so a crash repeats at most the send in flight on each channel.
  const deliverAll = async (due: ReadonlyMap<string, readonly Notification[]>): Promise<void> => {
    const results = await Promise.all([...due].map(([channelName, notifications]) => deliverChannel(channelName, notifications)));
    for (const { channelName, channel, outcomes, failure } of results) {
      for (const o of outcomes) {
        deliveries.push({ channel: channelName, channelType: channel.type, notificationId: o.notificationId, ok: o.ok });
      }
      if (failure) deliveryFailures.push(failure);
    }
  };
  try {
    await deliverAll(decided.deliveries);

    // channel health: a channel that keeps failing is reported through the others, at once
    let afterDelivery: Decision | undefined;
    await deps.store.update((state) => {
      afterDelivery = decideAfterDelivery(state, { deliveries, failures: deliveryFailures }, now, context());
      return afterDelivery.ledger;
    });
    logEvents(log, afterDelivery!.events);
    planned.push(...afterDelivery!.planned);
    await deliverAll(afterDelivery!.deliveries);
  } finally {
    phase.clear();
  }

  const final = await deps.store.update((state) =>
    recordEvaluation(
      state,
      {
        ok: alertFailures.length === 0 && deliveryFailures.length === 0,
        alertsEvaluated: evaluations.filter((e) => !e.final).length,
        firing: countFiring(evaluations),
        notificationsSent: deliveries.filter((d) => d.ok).length,
        errors: [...unreadByError(alertFailures).map(describeUnread), ...deliveryFailuresByChannel(deliveryFailures).map(describeDeliveryFailure)],
      },
      now,
    ),
  );
  return finish(final);
}

/** The request quota's answer: null when the evaluation goes ahead, else the deferral (logged and recorded when scheduled). */
async function admit(deps: TickDeps, now: Date): Promise<DeferredReport | null> {
  if (deps.admission === undefined) return null;
  const admission = await deps.admission.admit(deps.alerts, now);
  if (admission.ok) return null;
  if (!deps.admission.scheduled) {
    if (admission.kind !== 'pace') return { kind: 'deferred', admission };
    // The pace is the daemon's to keep; a one-off check only stops at the limit itself.
    deps.log.info({ retryAt: admission.retryAt.toISOString() }, `over the request pace (${admission.reason}); checking anyway`);
    return null;
  }
  const lastDeferral = { at: now.toISOString(), kind: admission.kind, retryAt: admission.retryAt.toISOString(), reason: admission.reason };
  deps.log.warn(
    { event: 'deferred', alerts: deps.alerts.map((a) => a.name), kind: admission.kind, retryAt: lastDeferral.retryAt },
    `evaluation skipped to stay within the Langfuse request budget (${admission.reason}); next possible at ${lastDeferral.retryAt}`,
  );
  // for `status`: the daemon's memory is gone with it
  await deps.store.update((state) => ({ ...state, lastDeferral }));
  return { kind: 'deferred', admission };
}

function logEvents(log: Logger, events: readonly DecisionEvent[]): void {
  for (const { level, fields, message } of events) log[level](fields, message);
}

function countFiring(evaluations: readonly EvaluatedAlert[]): number {
  return evaluations.filter((e) => !e.final).reduce((n, e) => n + e.series.filter((s) => s.breach !== null).length, 0);
}
