// Decides, from this evaluation and what state remembers, which notifications to send: once per
// series, period and severity; escalation notifies again; rolling windows resolve. Pure.
import type { AlertConfig, Severity } from '../alert.js';
import { ruleOf } from '../rules/index.js';
import { alertShape } from '../query.js';
import type { SeriesEvaluation } from '../series.js';
import { seriesStateKey, type SeriesState } from '../ledger.js';
import { currentWindow, parseWindow, periodStart } from '../time/windows.js';
import { cleanUsd } from '../money.js';
import { traceUrlOf, type Notification, type NotificationStatus } from '../notification.js';
import type { PlannedNotification } from './types.js';

export type { PlannedNotification } from './types.js';

export interface PlanInput {
  /**
   * the alerts evaluated now, each with all of its series; `final` marks the final check of a
   * calendar period that has closed (evaluated at its end, once late data is in)
   */
  readonly evaluated: ReadonlyArray<{ alert: AlertConfig; series: readonly SeriesEvaluation[]; final?: boolean }>;
  readonly series: Readonly<Record<string, SeriesState>>;
  readonly now: Date;
  readonly timezone: string;
  readonly langfuseUrl: string;
}

export interface Plan {
  readonly notifications: readonly PlannedNotification[];
  /** the whole series map after this evaluation */
  readonly series: Readonly<Record<string, SeriesState>>;
}

const RANK: Record<Severity, number> = { warning: 1, critical: 2 };

/** critical already sent covers warning: a series never steps down within a period */
function alreadyCovered(notified: readonly Severity[], severity: Severity): boolean {
  return notified.some((sent) => RANK[sent] >= RANK[severity]);
}

function highest(severities: readonly Severity[]): Severity {
  return severities.reduce<Severity>((top, s) => (RANK[s] > RANK[top] ? s : top), 'warning');
}

/** ISO without milliseconds: the period part of a notification id */
export function isoSeconds(date: Date | string): string {
  return new Date(date).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function notificationId(
  alert: string,
  seriesKey: string,
  period: string,
  severity: Severity,
  status: NotificationStatus,
): string {
  return [alert, seriesKey === '' ? '-' : seriesKey, isoSeconds(period), severity, status].join('|');
}

export function planNotifications(input: PlanInput): Plan {
  const series: Record<string, SeriesState> = { ...input.series };
  const notifications: PlannedNotification[] = [];
  // The remembered series of each alert, found once: scanning them all per alert is quadratic
  // with thousands of alerts.
  const rememberedOf = new Map<string, string[]>();
  for (const [key, previous] of Object.entries(input.series)) {
    const keys = rememberedOf.get(previous.alert);
    if (keys) keys.push(key);
    else rememberedOf.set(previous.alert, [key]);
  }
  const nowIso = input.now.toISOString();

  const emit = (
    alert: AlertConfig,
    evaluation: SeriesEvaluation,
    period: string,
    severity: Severity,
    status: NotificationStatus,
  ): void => {
    notifications.push({
      channels: alert.channels,
      notification: {
        id: notificationId(alert.name, evaluation.seriesKey, period, severity, status),
        status,
        severity,
        alert: alert.name,
        kind: evaluation.kind,
        group: groupOf(evaluation),
        window: evaluation.window,
        // what people and receivers read (webhook bodies, the outbox in the state): no float noise
        value: cleanUsd(evaluation.value),
        threshold: cleanUsd(evaluation.levels[severity] ?? lowestLevel(evaluation) ?? 0),
        baseline: evaluation.baseline === null ? null : cleanUsd(evaluation.baseline),
        factor: evaluation.factor,
        evaluatedAt: nowIso,
        langfuseUrl: input.langfuseUrl,
        ...(evaluation.groupBy === 'traceId' && evaluation.groupValue !== null ? traceFields(evaluation, evaluation.groupValue, input.langfuseUrl) : {}),
      },
    });
  };

  for (const { alert, series: evaluations, final } of input.evaluated) {
    if (ruleOf(alert).kind.lifecycle === 'once') {
      stepOnce(alert, evaluations, final ?? false, series, rememberedOf.get(alert.name) ?? [], input, emit);
      continue;
    }
    if (final) {
      for (const evaluation of evaluations) {
        const key = seriesStateKey(alert.name, evaluation.seriesKey);
        series[key] = stepFinal(alert, evaluation, series[key], input.now, emit);
      }
      continue;
    }
    const seen = new Set<string>();
    for (const evaluation of evaluations) {
      const key = seriesStateKey(alert.name, evaluation.seriesKey);
      seen.add(key);
      const previous = series[key];
      series[key] =
        evaluation.periodStart === null
          ? stepRolling(alert, evaluation, previous, input.now, emit)
          : stepCalendar(alert, evaluation, evaluation.periodStart, previous, input.now, emit);
    }
    for (const key of rememberedOf.get(alert.name) ?? []) {
      const previous = series[key];
      if (previous === undefined || seen.has(key)) continue;
      // A rolling series with no spend left in its window has recovered; a series that merely
      // fell out of a top-N tells us nothing, so it stays as it is.
      if (previous.open && alertShape(alert).kind !== 'topN') {
        series[key] = closeVanishedEpisode(alert, previous, input, emit);
      } else if (!previous.open && evaluations[0]?.periodStart && previous.period !== evaluations[0].periodStart.toISOString()) {
        delete series[key];
      }
    }
  }
  return { notifications, series };
}

/**
 * A rule whose series notify once and never resolve (perTrace): only series that breach, or were
 * notified, are kept. Calendar windows: once per period, forgotten when the period is over.
 * Rolling windows: once, kept while read, forgotten two window lengths after the last read —
 * by then the series has been out of the window for one window length.
 */
function stepOnce(
  alert: AlertConfig,
  evaluations: readonly SeriesEvaluation[],
  final: boolean,
  series: Record<string, SeriesState>,
  remembered: readonly string[],
  input: PlanInput,
  emit: Emit,
): void {
  const spec = parseWindow(alert.window);
  const seen = new Set<string>();
  for (const evaluation of evaluations) {
    const key = seriesStateKey(alert.name, evaluation.seriesKey);
    seen.add(key);
    const previous = series[key];
    if (previous === undefined && evaluation.breach === null) continue;
    if (final) series[key] = stepFinal(alert, evaluation, previous, input.now, emit);
    else if (evaluation.periodStart !== null) series[key] = stepCalendar(alert, evaluation, evaluation.periodStart, previous, input.now, emit);
    else if (previous) series[key] = { ...previous, lastValue: cleanUsd(evaluation.value), updatedAt: input.now.toISOString() };
    else {
      const episode = input.now.toISOString();
      emit(alert, evaluation, episode, evaluation.breach!, 'firing');
      series[key] = seriesState(alert, evaluation, episode, [evaluation.breach!], false, input.now);
    }
  }
  if (final) return;
  // calendar: kept through the period before this one, whose final check may still come
  const keepFrom =
    spec.kind === 'calendar'
      ? periodStart(spec, new Date(periodStart(spec, input.now, input.timezone).getTime() - 1), input.timezone).toISOString()
      : '';
  for (const key of remembered) {
    const previous = series[key];
    if (previous === undefined || seen.has(key)) continue;
    const forget =
      spec.kind === 'calendar'
        ? previous.period < keepFrom
        : input.now.getTime() - Date.parse(previous.updatedAt) >= 2 * spec.ms;
    if (forget) delete series[key];
  }
}

function traceFields(evaluation: SeriesEvaluation, id: string, langfuseUrl: string): Pick<Notification, 'trace' | 'traceUrl'> {
  const labels = evaluation.labels ?? {};
  return {
    trace: { id, name: labels['traceName'] ?? null, userId: labels['userId'] ?? null },
    traceUrl: traceUrlOf(langfuseUrl, id),
  };
}

type Emit = (
  alert: AlertConfig,
  evaluation: SeriesEvaluation,
  period: string,
  severity: Severity,
  status: NotificationStatus,
) => void;

function stepCalendar(
  alert: AlertConfig,
  evaluation: SeriesEvaluation,
  periodStart: Date,
  previous: SeriesState | undefined,
  now: Date,
  emit: Emit,
): SeriesState {
  const period = periodStart.toISOString();
  const samePeriod = previous?.period === period;
  let notified = samePeriod ? previous.notified : [];
  if (evaluation.breach && !alreadyCovered(notified, evaluation.breach)) {
    emit(alert, evaluation, period, evaluation.breach, 'firing');
    notified = [...notified, evaluation.breach];
  }
  const before = samePeriod ? previous.previous : previous && { period: previous.period, notified: previous.notified };
  return { ...seriesState(alert, evaluation, period, notified, false, now), ...(before ? { previous: before } : {}) };
}

/**
 * The closed period, evaluated once more at its end: spend logged just before midnight that
 * reached Langfuse late still fires that day's budget, unless that severity was already sent.
 */
function stepFinal(
  alert: AlertConfig,
  evaluation: SeriesEvaluation,
  current: SeriesState | undefined,
  now: Date,
  emit: Emit,
): SeriesState {
  const period = evaluation.periodStart!.toISOString();
  const slot = current?.period === period ? 'current' : current?.previous?.period === period ? 'previous' : 'none';
  const notified = slot === 'current' ? current!.notified : slot === 'previous' ? current!.previous!.notified : [];
  if (!evaluation.breach || alreadyCovered(notified, evaluation.breach)) {
    return current ?? seriesState(alert, evaluation, period, [], false, now);
  }
  emit(alert, evaluation, period, evaluation.breach, 'firing');
  const updated = [...notified, evaluation.breach];
  if (slot === 'current') return { ...current!, notified: updated };
  if (current && current.period > period) return { ...current, previous: { period, notified: updated } };
  return seriesState(alert, evaluation, period, updated, false, now);
}

function stepRolling(
  alert: AlertConfig,
  evaluation: SeriesEvaluation,
  previous: SeriesState | undefined,
  now: Date,
  emit: Emit,
): SeriesState {
  if (previous?.open) {
    if (evaluation.recovered) {
      if (alert.sendResolved) emit(alert, evaluation, previous.period, highest(previous.notified), 'resolved');
      return seriesState(alert, evaluation, previous.period, [], false, now);
    }
    if (evaluation.breach && !alreadyCovered(previous.notified, evaluation.breach)) {
      emit(alert, evaluation, previous.period, evaluation.breach, 'firing');
      return seriesState(alert, evaluation, previous.period, [...previous.notified, evaluation.breach], true, now);
    }
    return seriesState(alert, evaluation, previous.period, previous.notified, true, now);
  }
  if (evaluation.breach) {
    const episode = now.toISOString();
    emit(alert, evaluation, episode, evaluation.breach, 'firing');
    return seriesState(alert, evaluation, episode, [evaluation.breach], true, now);
  }
  return seriesState(alert, evaluation, previous?.period ?? now.toISOString(), [], false, now);
}

function closeVanishedEpisode(alert: AlertConfig, previous: SeriesState, input: PlanInput, emit: Emit): SeriesState {
  const [groupBy, groupValue] = Object.entries(previous.group)[0] ?? [];
  const range = currentWindow(parseWindow(alert.window), input.now, input.timezone);
  const rule = ruleOf(alert);
  const evaluation: SeriesEvaluation = {
    alert: alert.name,
    kind: rule.kind.key,
    ...(groupBy ? { groupBy: groupBy as SeriesEvaluation['groupBy'] } : {}),
    groupValue: groupValue ?? null,
    seriesKey: previous.seriesKey,
    value: 0,
    breach: null,
    levels: {},
    baseline: null,
    factor: rule.kind.compare(rule.config, alert).factor,
    window: { type: alert.window, from: range.from.toISOString(), to: range.to.toISOString(), timezone: input.timezone },
    periodStart: null,
    recovered: true,
  };
  return stepRolling(alert, evaluation, previous, input.now, emit);
}

function lowestLevel(evaluation: SeriesEvaluation): number | undefined {
  const levels = Object.values(evaluation.levels);
  return levels.length ? Math.min(...levels) : undefined;
}

function seriesState(
  alert: AlertConfig,
  evaluation: SeriesEvaluation,
  period: string,
  notified: readonly Severity[],
  open: boolean,
  now: Date,
): SeriesState {
  return {
    alert: alert.name,
    seriesKey: evaluation.seriesKey,
    group: groupOf(evaluation),
    period,
    notified,
    open,
    lastValue: cleanUsd(evaluation.value),
    updatedAt: now.toISOString(),
  };
}

export function groupOf(evaluation: SeriesEvaluation): Record<string, string | null> {
  return evaluation.groupBy ? { [evaluation.groupBy]: evaluation.groupValue } : {};
}
