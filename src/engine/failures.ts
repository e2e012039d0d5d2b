// What went wrong in an evaluation, said once per cause: a Langfuse outage fails every alert with
// the same error, and a thousand identical lines would bury it.
import type { AlertFailure, DeliveryFailure } from './types.js';

/** Alerts not evaluated for one and the same error. */
export interface UnreadAlerts {
  readonly error: string;
  readonly alerts: readonly string[];
}

/** One entry per distinct error, in the order the errors first occurred. */
export function unreadByError(failures: readonly AlertFailure[]): UnreadAlerts[] {
  const byError = new Map<string, string[]>();
  for (const { alert, error } of failures) byError.set(error, [...(byError.get(error) ?? []), alert]);
  return [...byError].map(([error, alerts]) => ({ error, alerts }));
}

/** Alert names a line lists before it only counts the rest (the JSON log carries them all). */
const NAMES_LISTED = 10;

/** `Langfuse could not be read (HTTP 503 …): 8 alerts not evaluated: a, b, c, …` */
export function describeUnread({ error, alerts }: UnreadAlerts): string {
  const listed = alerts.slice(0, NAMES_LISTED).join(', ');
  const more = alerts.length > NAMES_LISTED ? ` and ${alerts.length - NAMES_LISTED} more` : '';
  const count = alerts.length === 1 ? '1 alert' : `${alerts.length} alerts`;
  return `Langfuse could not be read (${error}): ${count} not evaluated: ${listed}${more}`;
}

/** One entry per channel: a channel can fail twice in an evaluation (alerts, then a health notice). */
export function deliveryFailuresByChannel(failures: readonly DeliveryFailure[]): DeliveryFailure[] {
  const byChannel = new Map<string, DeliveryFailure>();
  for (const failure of failures) {
    const seen = byChannel.get(failure.channel);
    byChannel.set(
      failure.channel,
      seen === undefined
        ? failure
        : {
            channel: failure.channel,
            notificationIds: [...seen.notificationIds, ...failure.notificationIds],
            error: seen.error === failure.error ? seen.error : `${seen.error}; ${failure.error}`,
          },
    );
  }
  return [...byChannel.values()];
}

/** `channel slack-ops did not accept 2 notification(s): HTTP 404 from https://hooks.slack.com: no_service` */
export function describeDeliveryFailure({ channel, notificationIds, error }: DeliveryFailure): string {
  return `channel ${channel} did not accept ${notificationIds.length} notification(s): ${error}`;
}
