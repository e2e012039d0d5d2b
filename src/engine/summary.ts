// The line that closes every evaluation, the daemon's and check's alike: what was evaluated, what
// fired and was sent, and what it cost in Langfuse requests and time.
import type { Logger } from '../log/logger.js';
import { waitingLine } from './requests.js';
import type { CheckReport } from './types.js';

/** At warn level when an alert or a channel failed, so a quiet log level still shows it. */
export function logEvaluation(
  log: Logger,
  report: CheckReport,
  extra: { alerts: readonly string[]; ms: number; langfuseRequests: number; now: Date },
): void {
  const firing = report.evaluations.reduce((n, e) => n + e.series.filter((s) => s.breach !== null).length, 0);
  const failed = report.alertFailures.length + report.deliveryFailures.length;
  const fields = {
    event: 'evaluation',
    alerts: extra.alerts,
    alertsEvaluated: report.evaluations.length,
    alertsFailed: report.alertFailures.length,
    // a cold start under a request budget: alerts whose history is still being fetched (not failures)
    alertsWaiting: report.waiting?.alerts ?? [],
    firing,
    notificationsPlanned: report.planned.length,
    notificationsSent: report.delivered,
    deliveryFailures: report.deliveryFailures.length,
    langfuseRequests: extra.langfuseRequests,
    ms: extra.ms,
    evaluatedAt: extra.now.toISOString(),
  };
  const message =
    `evaluation: ${fields.alertsEvaluated} alert(s) evaluated${fields.alertsFailed ? `, ${fields.alertsFailed} failed` : ''}, ` +
    `${report.waiting ? `${waitingLine(report.waiting)}, ` : ''}` +
    `${firing} series firing, ${report.delivered} notification(s) sent` +
    `${fields.deliveryFailures ? `, ${fields.deliveryFailures} channel(s) failing` : ''}, ` +
    `${extra.langfuseRequests} Langfuse request(s), ${extra.ms} ms`;
  if (failed > 0) log.warn(fields, message);
  else log.info(fields, message);
}
