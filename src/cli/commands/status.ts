// `spend-alerts status`: what the state directory knows, for humans.
import { resolve } from 'node:path';
import type { State } from '../../state/state.js';
import { StateStore } from '../../state/store.js';
import type { CliOptions } from '../args.js';
import type { Io } from '../runtime.js';
import { formatSeconds } from '../../util/format-seconds.js';
import { createRedactor } from '../../util/redact.js';
import { terminalSafe } from '../../util/terminal.js';
import { formatUsd } from '../../notify/format/money.js';
import { groupLabel } from '../../notify/format/text.js';

// status reads no configuration, so it knows no secret by value: errors are redacted before they
// are stored, and this still hides any URL password or Authorization header a state file written
// by an older version may hold.
const redactCredentials = createRedactor([]);

export async function statusCommand(options: CliOptions, io: Io, now: Date): Promise<number> {
  const store = new StateStore(resolve(io.cwd, options.stateDir), {
    onRecovery: ({ movedTo, reason }) => io.stdout.write(`The state file was damaged (${reason}): moved aside to ${movedTo}.\n`),
  });
  // error texts quote peers, series names traced data: both may hold terminal escape sequences
  io.stdout.write(terminalSafe(redactCredentials(describeState(await store.load(), store.file, now))));
  return 0;
}

export function describeState(state: State, file: string, now: Date): string {
  const lines: string[] = [`State: ${file}`];
  const last = state.lastEvaluation;
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
  const firing = Object.values(state.series).filter((s) => s.notified.length > 0);
  lines.push(`Firing series: ${firing.length}`);
  for (const s of firing.sort((a, b) => a.alert.localeCompare(b.alert) || a.seriesKey.localeCompare(b.seriesKey))) {
    const kind = s.open ? `episode since ${s.period}` : `period from ${s.period}`;
    const group = groupLabel(s.group);
    lines.push(`  ${s.alert}${group === null ? '' : ` [${group}]`}: ${s.notified.join(' → ')} notified, ${kind}, last value ${formatUsd(s.lastValue)}`);
  }
  const pending = Object.values(state.outbox);
  lines.push(`Pending deliveries: ${pending.length}`);
  for (const entry of pending.sort((a, b) => a.createdAt.localeCompare(b.createdAt))) {
    const channels = Object.entries(entry.channels).map(([name, d]) => {
      const retry = d.attempts === 0 ? 'not tried yet' : `${d.attempts} failed attempt(s), next at ${d.nextAttemptAt}, last error: ${d.lastError}`;
      return `${name} (${retry})`;
    });
    lines.push(`  ${entry.notification.id} (since ${entry.createdAt}) → ${channels.join('; ')}`);
  }
  const unhealthy = [
    ...(state.langfuse.failures > 0 ? [`Langfuse: ${state.langfuse.failures} failed evaluation(s) since ${state.langfuse.since}: ${state.langfuse.lastError}`] : []),
    ...(state.langfuse.blockedUntil ? [`Langfuse asked not to be queried before ${state.langfuse.blockedUntil}`] : []),
    ...Object.entries(state.channels).map(([name, h]) => `channel ${name}: ${h.failures} failed evaluation(s) since ${h.since}: ${h.lastError}`),
  ];
  if (unhealthy.length > 0) lines.push('Problems:', ...unhealthy.map((line) => `  ${line}`));
  return lines.join('\n') + '\n';
}
