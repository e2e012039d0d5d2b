// `spend-alerts status`: what the state directory knows, for humans.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { cleanLine } from '../../render/text.js';
import { askedToWaitUntil, claimsOfOthers, isClaimed } from '../../core/decide/outbox.js';
import type { State } from '../../core/ledger.js';
import { StateStore } from '../../storage/state-store.js';
import { RequestQuota } from '../../sources/langfuse/quota.js';
import { fileStorage } from '../../storage/file.js';
import type { CliOptions } from '../args.js';
import type { CommandOutcome } from '../outcome.js';
import { RuntimeError, type Io } from '../compose.js';
import { formatSeconds } from '../../util/format-seconds.js';
import { createRedactor } from '../../util/redact.js';
import { terminalSafe } from '../../util/terminal.js';
import { formatUsd } from '../../render/money.js';
import { groupLabel } from '../../render/text.js';

// status reads no configuration, so it knows no secret by value: errors are redacted before they
// are stored, and this still hides any URL password or Authorization header a state file written
// by an older version may hold.
const redactCredentials = createRedactor([]);

export async function statusCommand(options: CliOptions, io: Io, now: Date): Promise<CommandOutcome> {
  const dir = resolve(io.cwd, options.stateDir);
  // Most likely the wrong --state-dir (or the wrong working directory): "never evaluated" would mislead.
  if (!existsSync(dir)) throw new RuntimeError(`no state directory at ${dir}`);
  const store = new StateStore(dir, {
    onRecovery: ({ movedTo, reason }) => io.stdout.write(`The state file was damaged (${reason}): moved aside to ${movedTo}.\n`),
  });
  // error texts quote peers, series names traced data: both may hold terminal escape sequences
  const state = await store.load();
  // the limits don't matter here: only the pause Langfuse asked for is shown
  const budget = await RequestQuota.open({ storage: fileStorage(dir), limits: {} });
  io.stdout.write(terminalSafe(redactCredentials(describeState(state, store.file, now, budget.snapshot(now).pausedUntil))));
  return 'ok';
}

/** `pausedUntil`: the pause Langfuse asked for (kept by the request quota), shown among the problems. */
export function describeState(state: State, file: string, now: Date, pausedUntil: Date | null = null): string {
  const lines: string[] = [`State: ${file}`];
  const last = state.evaluations[0];
  if (!last) {
    lines.push('Last evaluation: never');
  } else {
    const ago = Math.round((now.getTime() - Date.parse(last.at)) / 1000);
    lines.push(
      `Last evaluation: ${last.at} (${formatSeconds(ago)} ago), ${last.ok ? 'succeeded' : 'FAILED'}: ` +
        `${last.alertsEvaluated} alert(s) evaluated, ${last.firing} series firing, ${last.notificationsSent} notification(s) delivered`,
    );
    for (const error of last.errors) lines.push(`  error: ${error}`);
  }
  const deferral = state.lastDeferral;
  if (deferral !== undefined) {
    lines.push(
      `Last deferral by the request budget: ${String(deferral.at)} (${String(deferral.kind)}): ${String(deferral.reason)}; ` +
        `next possible at ${String(deferral.retryAt)}`,
    );
  }
  const firing = Object.values(state.series).filter((s) => s.notified.length > 0);
  lines.push(`Firing series: ${firing.length}`);
  for (const s of firing.sort((a, b) => a.alert.localeCompare(b.alert) || a.seriesKey.localeCompare(b.seriesKey))) {
    const kind = s.open ? `episode since ${s.period}` : `period from ${s.period}`;
    const group = groupLabel(s.group);
    lines.push(`  ${s.alert}${group === null ? '' : ` [${group}]`}: ${s.notified.join(' → ')} notified, ${kind}, last value ${formatUsd(s.lastValue)}`);
  }
  lines.push(`Pending deliveries: ${Object.keys(state.outbox).length}`, ...describePending(state, now));
  const unhealthy = [
    ...(state.langfuse.failures > 0 ? [`Langfuse: ${state.langfuse.failures} failed evaluation(s) since ${state.langfuse.since}: ${state.langfuse.lastError}`] : []),
    ...(pausedUntil === null ? [] : [`Langfuse asked not to be queried before ${pausedUntil.toISOString()}`]),
    ...Object.entries(state.channels).map(([name, h]) => `channel ${name}: ${h.failures} failed evaluation(s) since ${h.since}: ${h.lastError}`),
  ];
  if (unhealthy.length > 0) lines.push('Problems:', ...unhealthy.map((line) => `  ${line}`));
  return lines.join('\n') + '\n';
}

/**
 * One line per notification a channel has not accepted yet: since when, failed attempts, the last
 * error and the next attempt; then what another process is sending right now. Shared by `status`
 * and what `check` says is left. Ids and errors carry traced values and peers' words: one clean line each.
 */
export function describePending(state: State, now: Date): string[] {
  const lines: string[] = [];
  const nowIso = now.toISOString();
  const waits = askedToWaitUntil(state);
  const entries = Object.values(state.outbox).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  for (const entry of entries) {
    for (const [name, delivery] of Object.entries(entry.channels)) {
      const tried =
        delivery.attempts === 0
          ? 'not tried yet'
          : `${delivery.attempts} failed attempt(s), last error: ${cleanLine(delivery.lastError ?? 'unknown', 300)}`;
      const askedUntil = waits.get(name);
      const next = isClaimed(delivery, now)
        ? `claimed by another process until ${delivery.claimedUntil}`
        : askedUntil !== undefined && askedUntil > nowIso
          ? `next attempt at ${askedUntil > delivery.nextAttemptAt ? askedUntil : delivery.nextAttemptAt} (the channel asked not to be tried before ${askedUntil})`
          : `next attempt at ${delivery.nextAttemptAt}`;
      lines.push(`  ${cleanLine(entry.notification.id)} → ${name}: pending since ${entry.createdAt}, ${tried}; ${next}`);
    }
  }
  const claims = claimsOfOthers(state, now);
  if (claims.count > 0) {
    lines.push(`  ${claims.count} deliveries are claimed by another process until ${claims.until}: it is sending them, or they are tried again once the claim ran out`);
  }
  return lines;
}
