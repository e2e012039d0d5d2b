// Langfuse's and each channel's health across evaluations, and the system notices it calls for:
// degraded after `degradedAfter` failed evaluations in a row, recovered on the first success. Pure.
import { channelFailing, channelRecovered, langfuseDegraded, langfuseRecovered } from './notices.js';
import { HEALTHY, type PeerHealth, type State } from '../ledger.js';
import type { AlertFailure, DecideContext, DeliveryFailure, DeliveryRecord, PlannedNotification } from './types.js';

/** What this evaluation learnt of Langfuse. */
export interface LangfuseHealth {
  /** alerts that could not be read, and why (the pause Langfuse asks for is the request quota's, not the ledger's) */
  readonly failures: readonly AlertFailure[];
}

type HealthContext = Pick<DecideContext, 'timezone' | 'langfuseUrl' | 'channels' | 'systemChannels' | 'degradedAfter'>;

/** The channels a system notice goes to: the chosen ones (default all) that are configured and not failing. */
function systemTargets(state: State, context: HealthContext, exclude?: string): string[] {
  const candidates = context.systemChannels ?? context.channels;
  return candidates.filter((name) => name !== exclude && context.channels.includes(name) && (state.channels[name]?.failures ?? 0) === 0);
}

export function decideLangfuseHealth(
  state: State,
  health: LangfuseHealth,
  now: Date,
  context: HealthContext,
): { state: State; notices: PlannedNotification[] } {
  const noticeContext = { now, timezone: context.timezone, langfuseUrl: context.langfuseUrl };
  const { failures } = health;
  if (failures.length === 0) {
    const notices = state.langfuse.noticeSent
      ? [{ notification: langfuseRecovered(state.langfuse, noticeContext), channels: systemTargets(state, context) }]
      : [];
    return { state: { ...state, langfuse: HEALTHY }, notices };
  }
  const next: PeerHealth = {
    failures: state.langfuse.failures + 1,
    since: state.langfuse.since ?? now.toISOString(),
    lastError: failures[0]!.error,
    noticeSent: state.langfuse.noticeSent,
  };
  if (next.failures >= context.degradedAfter && !next.noticeSent) {
    const blind = failures.map((f) => f.alert);
    return {
      state: { ...state, langfuse: { ...next, noticeSent: true } },
      notices: [{ notification: langfuseDegraded(next, blind, noticeContext), channels: systemTargets(state, context) }],
    };
  }
  return { state: { ...state, langfuse: next }, notices: [] };
}

/** The channels' health after a delivery phase, and the "failing" / "recovered" notices it calls for. */
export function decideChannelHealth(
  state: State,
  deliveries: readonly DeliveryRecord[],
  failures: readonly DeliveryFailure[],
  now: Date,
  context: HealthContext,
): { state: State; notices: PlannedNotification[] } {
  const noticeContext = { now, timezone: context.timezone, langfuseUrl: context.langfuseUrl };
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
      since: previous.since ?? now.toISOString(),
      lastError: failure.error,
      noticeSent: previous.noticeSent || previous.failures + 1 >= context.degradedAfter,
    };
    channels[name] = health;
    if (health.noticeSent && !previous.noticeSent) failing.push([name, health]);
  }
  // targets from the health after this evaluation: a recovered channel hears of its own recovery
  const after = { ...state, channels };
  const notices: PlannedNotification[] = [];
  for (const [name, health] of recovered) {
    notices.push({ notification: channelRecovered(name, health, noticeContext), channels: systemTargets(after, context) });
  }
  for (const [name, health] of failing) {
    const waiting = Object.values(state.outbox).filter((entry) => name in entry.channels).length;
    notices.push({ notification: channelFailing(name, health, waiting, noticeContext), channels: systemTargets(after, context, name) });
  }
  return { state: after, notices };
}
