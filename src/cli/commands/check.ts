// `spend-alerts check`: one evaluation of every alert (or --alert), delivered and recorded.
import { resolve } from 'node:path';
import { renderPlain } from '../../notify/format/plain.js';
import { runCheck, waitingLine, type CheckReport, type WaitingAlerts } from '../../pipeline/check.js';
import { StateStore } from '../../state/store.js';
import { UsageError, type CliOptions } from '../args.js';
import { buildChannels, buildLangfuse, checkPolicy, closeChannels, logConfigWarnings, prepare, resolveLangfuseUrl, RuntimeError, type Io } from '../runtime.js';

export async function checkCommand(options: CliOptions, io: Io, clock: Date): Promise<number> {
  // On the minute, as scheduled evaluations are: the history cache then cuts windows at hours and
  // minutes it already holds instead of at an arbitrary millisecond.
  const now = new Date(Math.floor(clock.getTime() / 60_000) * 60_000);
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
  const { client, source, admit } = await buildLangfuse(config, log, { stateDir: store.dir, readOnly: options.dryRun });
  const admission = await admit(alerts, now);
  if (!admission.ok) {
    // The pace is the daemon's to keep; a one-off check only stops at the limit itself.
    if (admission.kind !== 'pace') throw new RuntimeError(`not evaluated: ${admission.reason}`);
    log.info({ retryAt: admission.retryAt.toISOString() }, `over the request pace (${admission.reason}); checking anyway`);
  }
  const url = await resolveLangfuseUrl(client, config, store, log, !options.dryRun);
  // Building a channel opens no connection, so a dry run builds them too and just doesn't send.
  const channels = buildChannels(config, Object.keys(config.channels), io);
  try {
    const report = await runCheck({
      config,
      alerts,
      source,
      channels,
      store,
      dryRun: options.dryRun,
      now,
      langfuseUrl: url,
      log,
      deliveryOptions: { redact },
      policy: checkPolicy(config),
    });
    if (options.dryRun) io.stdout.write(describeDryRun(report));
    // Not a failure (exit 0): a cold start under a request budget fetches the history over several evaluations.
    if (report.waiting) io.stdout.write(describeWaiting(report.waiting, options.dryRun));
    logSummary(report, log, now);
    return report.alertFailures.length > 0 || report.deliveryFailures.length > 0 ? 1 : 0;
  } finally {
    await closeChannels(channels);
  }
}

function describeDryRun(report: CheckReport): string {
  const out: string[] = [];
  if (report.pendingByChannel.size === 0) {
    out.push('Dry run: nothing would be sent.');
  }
  for (const [channel, notifications] of report.pendingByChannel) {
    out.push(`Dry run: would send ${notifications.length} notification(s) to ${channel}:`, renderPlain(notifications), '');
  }
  return out.join('\n') + '\n';
}

function describeWaiting(waiting: WaitingAlerts, dryRun: boolean): string {
  // A dry run keeps nothing it fetched: the history comes in with the checks and the daemon's evaluations.
  const rest = dryRun ? 'Dry run: fetched what the request budget allows one evaluation; the rest waits.\n' : '';
  return `${rest}${waitingLine(waiting)}\n`;
}

function logSummary(report: CheckReport, log: Parameters<typeof runCheck>[0]['log'], now: Date): void {
  const firing = report.evaluations.reduce((n, e) => n + e.series.filter((s) => s.breach !== null).length, 0);
  log.info(
    {
      alertsEvaluated: report.evaluations.length,
      alertsFailed: report.alertFailures.length,
      alertsWaiting: report.waiting?.alerts.length ?? 0,
      firing,
      notificationsPlanned: report.planned.length,
      notificationsDelivered: report.delivered,
      deliveryFailures: report.deliveryFailures.length,
      evaluatedAt: now.toISOString(),
    },
    'evaluation finished',
  );
}
