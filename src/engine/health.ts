// Langfuse's and each channel's health across evaluations, and the system notices it calls for:
// degraded after `degradedAfter` failed evaluations in a row, recovered on the first success.
import { channelFailing, channelRecovered, langfuseDegraded, langfuseRecovered } from '../core/decide/notices.js';
import type { PlannedNotification } from '../core/decide/notifications.js';
import { HEALTHY, type PeerHealth, type State } from '../core/ledger.js';
import { addToOutbox } from './outbox.js';
import type { AlertFailure, CheckInput, CheckPolicy, DeliveryFailure, DeliveryRecord } from './types.js';

function systemTargets(state: State, input: CheckInput, policy: CheckPolicy, exclude?: string): string[] {
  const candidates = policy.systemChannels ?? [...input.channels.keys()];
  return candidates.filter((name) => name !== exclude && input.channels.has(name) && (state.channels[name]?.failures ?? 0) === 0);
}

export function recordLangfuseHealth(
  state: State,
  input: CheckInput,
  policy: CheckPolicy,
  failures: readonly AlertFailure[],
  planned: PlannedNotification[],
): State {
  const context = { now: input.now, timezone: input.config.timezone, langfuseUrl: input.langfuseUrl };
  if (failures.length === 0) {
    if (state.langfuse.noticeSent) {
      planned.push({ notification: langfuseRecovered(state.langfuse, context), channels: systemTargets(state, input, policy) });
    }
    return { ...state, langfuse: HEALTHY };
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
    return { ...state, langfuse: { ...health, noticeSent: true } };
  }
  return { ...state, langfuse: health };
}

export function recordChannelHealth(
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
