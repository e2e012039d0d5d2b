// What `spend-alerts backtest` prints: per alert how many notifications it would have sent and on
// which days, with a hint when it would have been noisy or silent; or, with --json, one entry per
// notification.
import { cleanUsd } from '../core/money.js';
import type { Notification } from '../core/notification.js';
import { wallClock } from '../core/time/zone.js';
import { formatUsd } from './money.js';
import { cleanLine, comparison, groupLabel } from './text.js';

export interface ReplayedNotification {
  /** the evaluation time it was decided at */
  readonly at: Date;
  readonly notification: Notification;
}

/** Listed one by one under an alert; beyond that they are counted. */
const LISTED_PER_ALERT = 10;

/** `[{alert, group, severity, status, at, value, threshold}]`, plus `step` and `forecast` where they apply. */
export function renderBacktestJson(replayed: readonly ReplayedNotification[]): string {
  const entries = replayed.map(({ at, notification: n }) => ({
    alert: n.alert,
    group: n.group,
    severity: n.severity,
    status: n.status,
    at: at.toISOString(),
    value: cleanUsd(n.value),
    threshold: n.threshold === null ? null : cleanUsd(n.threshold),
    ...(n.step === undefined ? {} : { step: n.step }),
    ...(n.forecast === undefined ? {} : { forecast: cleanUsd(n.forecast) }),
  }));
  return `${JSON.stringify(entries, null, 2)}\n`;
}

/**
 * Per alert (in the configuration's order): its count and days, the notifications themselves up to
 * a few, and a hint — noisy above one a day on average, silent without any. A day is the local date
 * of the hour that ended at the evaluation (an evaluation at midnight is about the day before).
 */
export function renderBacktestText(
  replayed: readonly ReplayedNotification[],
  options: { readonly alerts: readonly string[]; readonly days: number; readonly from: Date; readonly to: Date; readonly timezone: string },
): string {
  const { timezone, days } = options;
  const lines = [`backtest: ${days} day${days === 1 ? '' : 's'}, ${localTime(options.from, timezone)} – ${localTime(options.to, timezone)} ${timezone}, evaluated hourly`];
  const width = Math.max(...options.alerts.map((name) => name.length));
  for (const alert of options.alerts) {
    const mine = replayed.filter((r) => r.notification.alert === alert);
    const name = cleanLine(alert, 100).padEnd(width);
    if (mine.length === 0) {
      lines.push('', `${name}  0 notifications — silent: it never fired in ${days} day${days === 1 ? '' : 's'}; is its threshold above any spend seen?`);
      continue;
    }
    const perDay = new Map<string, number>();
    for (const { at } of mine) {
      const day = localDate(new Date(at.getTime() - 1), timezone);
      perDay.set(day, (perDay.get(day) ?? 0) + 1);
    }
    const dayList = [...perDay].map(([day, count]) => (count === 1 ? day : `${day} (${count})`)).join(', ');
    lines.push('', `${name}  ${mine.length} notification${mine.length === 1 ? '' : 's'} on ${perDay.size} day${perDay.size === 1 ? '' : 's'}: ${dayList}`);
    if (mine.length > days) {
      lines.push(`  noisy: ${(mine.length / days).toFixed(1)} a day on average; a higher threshold, minSpend or a longer window would quiet it`);
    }
    for (const { at, notification: n } of mine.slice(0, LISTED_PER_ALERT)) {
      const group = groupLabel(n.group);
      lines.push(`  ${localTime(at, timezone)}  ${n.severity} ${n.status}  ${comparison(n) ?? formatUsd(n.value)}${group === null ? '' : `  ${group}`}`);
    }
    if (mine.length > LISTED_PER_ALERT) lines.push(`  … and ${mine.length - LISTED_PER_ALERT} more`);
  }
  return `${lines.join('\n')}\n`;
}

function localDate(instant: Date, timezone: string): string {
  const clock = wallClock(instant, timezone);
  return `${clock.year}-${String(clock.month).padStart(2, '0')}-${String(clock.day).padStart(2, '0')}`;
}

function localTime(instant: Date, timezone: string): string {
  const clock = wallClock(instant, timezone);
  return `${localDate(instant, timezone)} ${String(clock.hour).padStart(2, '0')}:${String(clock.minute).padStart(2, '0')}`;
}
