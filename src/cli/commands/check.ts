// `spend-alerts check`: one evaluation of every alert (or --alert), delivered and recorded.
import { resolve } from 'node:path';
import { cleanLine } from '../../render/text.js';
import { renderPlain } from '../../render/plain.js';
import { tick, waitingLine, type CheckReport, type WaitingAlerts } from '../../engine/worker.js';
import { deliveryFailuresByChannel, describeDeliveryFailure, describeUnread, unreadByError } from '../../engine/failures.js';
import { StateStore } from '../../storage/state-store.js';
import { describePending } from './status.js';
import { terminalSafe } from '../../util/terminal.js';
import { UsageError, type CliOptions } from '../args.js';
import type { CommandOutcome } from '../outcome.js';
import { buildChannels, buildLangfuse, checkPolicy, closeChannels, logConfigWarnings, prepare, resolveLangfuseUrl, RuntimeError, type Io } from '../compose.js';

/** A plain error line may quote a server's answer: bounded, and on one line whatever it holds. */
const MAX_ERROR_LINE = 1_000;

export async function checkCommand(options: CliOptions, io: Io, startedAt: Date, clock: () => Date): Promise<CommandOutcome> {
  // On the minute, as scheduled evaluations are: the history cache then cuts windows at hours and
  // minutes it already holds instead of at an arbitrary millisecond.
  const now = new Date(Math.floor(startedAt.getTime() / 60_000) * 60_000);
  const prepared = await prepare(options, io, 'all');
  const { config, log, redact } = prepared;
  logConfigWarnings(prepared);
  const unknown = options.alerts.filter((name) => !config.alerts.some((alert) => alert.name === name));
  if (unknown.length > 0) {
    throw new UsageError(`no alert named ${unknown.map((n) => `"${n}"`).join(', ')} (alerts: ${config.alerts.map((a) => a.name).join(', ')})`);
  }
  const alerts = options.alerts.length > 0 ? config.alerts.filter((a) => options.alerts.includes(a.name)) : config.alerts;
  const store = new StateStore(resolve(io.cwd, options.stateDir), {
    readOnly: options.dryRun,
    onRecovery: ({ movedTo, reason }) =>
      log.error({ movedTo }, `the state file was damaged (${reason}): moved aside to ${movedTo}, starting afresh`),
  });
  if (!options.dryRun) await store.ensureWritable();
  let langfuseRequests = 0;
  const { client, source, admit } = await buildLangfuse(config, log, {
    stateDir: store.dir,
    readOnly: options.dryRun,
    onRequest: () => (langfuseRequests += 1),
    transport: io.transport,
    clock,
  });
  // Building a channel opens no connection, so a dry run builds them too and just doesn't send.
  const channels = buildChannels(config, Object.keys(config.channels), io, clock);
  try {
    const report = await tick(
      {
        config,
        alerts,
        source,
        channels,
        store,
        admission: { admit, scheduled: false },
        dryRun: options.dryRun,
        langfuseUrl: () => resolveLangfuseUrl(client, config, store, log, !options.dryRun),
        langfuseRequests: () => langfuseRequests,
        log,
        redact,
        // Backoff paces the daemon; a check, often run right after fixing a channel, tries everything now.
        policy: { ...checkPolicy(config), ignoreBackoff: true },
        clock,
      },
      now,
    );
    if (report.kind === 'deferred') throw new RuntimeError(`not evaluated: ${report.admission.reason}`);
    if (options.dryRun) io.stdout.write(terminalSafe(describeDryRun(report, alerts.length)));
    // Not a failure (exit 0): a cold start under a request budget fetches the history over several evaluations.
    if (report.waiting) io.stdout.write(terminalSafe(describeWaiting(report.waiting, options.dryRun)));
    // The log has these too, but as JSON among other lines; the person at the terminal reads these.
    const errors = [...unreadByError(report.alertFailures).map(describeUnread), ...deliveryFailuresByChannel(report.deliveryFailures).map(describeDeliveryFailure)];
    for (const error of errors) io.stderr.write(`spend-alerts: ${cleanLine(redact(error), MAX_ERROR_LINE)}\n`);
    // after the errors that caused it: what is still pending, and when it is tried again
    if (!options.dryRun) io.stderr.write(describeLeft(report, clock()));
    return report.alertFailures.length > 0 || report.deliveryFailures.length > 0 ? 'failed' : 'ok';
  } finally {
    await closeChannels(channels);
  }
}

/** What would be sent; when Langfuse could not be read, that comes first: silence proves nothing then. */
function describeDryRun(report: CheckReport, alertCount: number): string {
  const out: string[] = [];
  const unread = report.alertFailures.length;
  if (unread > 0) {
    out.push(`Dry run: Langfuse could not be read: ${unread} of ${alertCount} alert(s) not evaluated (the errors are on stderr).`);
  }
  if (report.pendingByChannel.size === 0 && unread < alertCount) {
    out.push(unread === 0 ? 'Dry run: nothing would be sent.' : `Dry run: nothing would be sent for the other ${alertCount - unread}.`);
  }
  for (const [channel, notifications] of report.pendingByChannel) {
    out.push(`Dry run: would send ${notifications.length} notification(s) to ${channel}:`, renderPlain(notifications), '');
  }
  return out.join('\n') + '\n';
}

/** What is still pending after the check, in plain lines: nothing when everything was delivered. */
function describeLeft(report: CheckReport, at: Date): string {
  const pending = describePending(report.state, at);
  if (pending.length === 0) return '';
  const count = Object.values(report.state.outbox).reduce((n, entry) => n + Object.keys(entry.channels).length, 0);
  return [
    `Still pending: ${count} delivery(ies). \`run\` tries again at the next attempt; every \`check\` tries again at once.`,
    ...pending,
  ].join('\n') + '\n';
}

function describeWaiting(waiting: WaitingAlerts, dryRun: boolean): string {
  // A dry run keeps nothing it fetched: the history comes in with the checks and the daemon's evaluations.
  const rest = dryRun ? 'Dry run: fetched what the request budget allows one evaluation; the rest waits.\n' : '';
  return `${rest}${waitingLine(waiting)}\n`;
}
