// `spend-alerts status`: what the state directory knows, for humans.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { State } from '../../state/state.js';
import { StateStore } from '../../state/store.js';
import { langfusePause } from '../../pipeline/requests.js';
import type { CliOptions } from '../args.js';
import { RuntimeError, type Io } from '../runtime.js';
import { formatSeconds } from '../../util/format-seconds.js';

export async function statusCommand(options: CliOptions, io: Io, now: Date): Promise<number> {
  const dir = resolve(io.cwd, options.stateDir);
  // Most likely the wrong --state-dir (or the wrong working directory): "never evaluated" would mislead.
  if (!existsSync(dir)) throw new RuntimeError(`no state directory at ${dir}`);
  const store = new StateStore(dir, {
    onRecovery: ({ movedTo, reason }) => io.stdout.write(`The state file was damaged (${reason}): moved aside to ${movedTo}.\n`),
  });
  io.stdout.write(describeState(await store.load(), store.file, now));
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
    lines.push(`  ${s.alert}${s.seriesKey ? ` [${s.seriesKey}]` : ''}: ${s.notified.join(' → ')} notified, ${kind}, last value $${s.lastValue.toFixed(2)}`);
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
  // as the next evaluation will read it: a stored pause that can't be right is shown repaired
  const pause = langfusePause(state, now).until;
  const unhealthy = [
    ...(state.langfuse.failures > 0 ? [`Langfuse: ${state.langfuse.failures} failed evaluation(s) since ${state.langfuse.since}: ${state.langfuse.lastError}`] : []),
    ...(pause === null ? [] : [`Langfuse asked not to be queried before ${pause.toISOString()}`]),
    ...Object.entries(state.channels).map(([name, h]) => `channel ${name}: ${h.failures} failed evaluation(s) since ${h.since}: ${h.lastError}`),
  ];
  if (unhealthy.length > 0) lines.push('Problems:', ...unhealthy.map((line) => `  ${line}`));
  return lines.join('\n') + '\n';
}
