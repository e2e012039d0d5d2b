// The decisions after an evaluation, as pure functions over data: what to notify (dedup and
// escalation), Langfuse's and the channels' health, the outbox with its claims and expiry. The
// engine reads the ledger, calls these under the state lock, writes what they return, logs their
// events and makes their deliveries; nothing here does I/O or reads a clock.
import { EVALUATIONS_KEPT, pruneRemovedAlerts, type State } from '../ledger.js';
import { decideChannelHealth, decideLangfuseHealth, type LangfuseHealth } from './health.js';
import { planNotifications } from './notifications.js';
import { addToOutbox, claimDue, expireUndeliverable } from './outbox.js';
import type { DecideContext, DecisionEvent, Deliveries, DeliveryFailure, DeliveryRecord, EvaluatedAlert, PlannedNotification } from './types.js';

export type { LangfuseHealth } from './health.js';
export * from './types.js';

/** A calendar alert's period before the current one, asked for now: by the regular request, or by its final check. */
export interface PeriodCheck {
  readonly alert: string;
  /** ISO start of the period before the current one */
  readonly previousPeriod: string;
  readonly final: boolean;
}

export interface Evaluations {
  /** the alerts evaluated, final checks of closed periods included */
  readonly evaluated: readonly EvaluatedAlert[];
  /** the calendar checks this evaluation asked for, evaluated or not */
  readonly periodChecks: readonly PeriodCheck[];
}

export interface Decision {
  /** the ledger to save */
  readonly ledger: State;
  /** claimed in `ledger` for `context.claim.by`: send these now */
  readonly deliveries: Deliveries;
  /** the notifications decided now, system notices included */
  readonly planned: readonly PlannedNotification[];
  readonly events: readonly DecisionEvent[];
}

/**
 * What an evaluation changes: the series and what they notify, the finalized periods, Langfuse's
 * health, the outbox (new notifications in, expired ones summarised), and the deliveries due now,
 * claimed. Decisions are saved before anything is sent, so a crash repeats at most a send in flight.
 */
export function decide(ledger: State, evaluations: Evaluations, health: LangfuseHealth, now: Date, context: DecideContext): Decision {
  const plan = planNotifications({
    evaluated: evaluations.evaluated,
    series: pruneRemovedAlerts(ledger.series, new Set(context.alerts)),
    now,
    timezone: context.timezone,
    langfuseUrl: context.langfuseUrl,
  });
  const evaluated: State = { ...ledger, series: plan.series, finalized: finalizedAfter(ledger.finalized, evaluations) };
  const langfuse = decideLangfuseHealth(evaluated, health, now, context);
  const decided = [...plan.notifications, ...langfuse.notices];
  const expired = expireUndeliverable(addToOutbox(langfuse.state, decided, now, context), now, context);
  const due = claimDue(expired.state, now, context);
  return {
    ledger: due.state,
    deliveries: due.deliveries,
    planned: [...decided, ...expired.summaries],
    events: [...expired.events, ...due.events],
  };
}

/**
 * After the delivery phase: the channels' health, and the notices about it (a channel failing or
 * recovered), claimed at once so they go out through the others in this same evaluation.
 */
export function decideAfterDelivery(
  ledger: State,
  delivered: { readonly deliveries: readonly DeliveryRecord[]; readonly failures: readonly DeliveryFailure[] },
  now: Date,
  context: DecideContext,
): Decision {
  const health = decideChannelHealth(ledger, delivered.deliveries, delivered.failures, now, context);
  const withNotices = addToOutbox(health.state, health.notices, now, context);
  if (health.notices.length === 0) return { ledger: withNotices, deliveries: new Map(), planned: [], events: [] };
  const due = claimDue(withNotices, now, context, new Set(health.notices.map((n) => n.notification.id)));
  return { ledger: due.state, deliveries: due.deliveries, planned: health.notices, events: due.events };
}

/** What `status`, /readyz and the status page read of an evaluation. */
export interface EvaluationSummary {
  readonly ok: boolean;
  readonly alertsEvaluated: number;
  readonly firing: number;
  readonly notificationsSent: number;
  readonly errors: readonly string[];
}

/** Puts the evaluation first among those kept, forgetting the oldest beyond EVALUATIONS_KEPT. */
export function recordEvaluation(ledger: State, summary: EvaluationSummary, now: Date): State {
  return { ...ledger, evaluations: [{ at: now.toISOString(), ...summary }, ...ledger.evaluations].slice(0, EVALUATIONS_KEPT) };
}

/**
 * A calendar alert's previous period counts as checked once its final check succeeded, or when
 * the alert is first seen (nothing before that is reported).
 */
function finalizedAfter(finalized: Readonly<Record<string, string>>, { evaluated, periodChecks }: Evaluations): Record<string, string> {
  const next: Record<string, string> = { ...finalized };
  for (const check of periodChecks) {
    const done = evaluated.some((e) => e.alert.name === check.alert && Boolean(e.final) === check.final);
    if (done && (check.final || next[check.alert] === undefined)) next[check.alert] = check.previousPeriod;
  }
  return next;
}
